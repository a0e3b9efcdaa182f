// Staff sign-in with Microsoft against the Entra look-alike (panva's oidc-provider):
// the admin configures it on /admin/sso by typing the fields, runs the connection test
// (a wrong secret first, then the right one), turns sign-in on and invites a colleague;
// the colleague signs in through the provider's own login form and is linked; then
// SSO-only is turned on from the admin page, after which the login page has no
// password form and a password POST is refused by the server.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { csrfToken, firstSignIn, providerSignIn, submitPassword } from '../lib/flows.js';
import { GRACE, LINUS, STAFF_APP, STAFF_TENANT, OPS_ADMIN, startGatehouseWithEntra } from '../lib/world.js';

const ADMIN = OPS_ADMIN;

let browser;
let entra;
let gatehouse;

let close;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  ({ entra, gatehouse, close } = await startGatehouseWithEntra());
});

after(async () => {
  await browser?.close();
  await close?.();
});

test('staff SSO: configured in the admin pages, Microsoft sign-in through the provider, SSO-only enforced', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'staff-sso', gatehouse.base);
  const adminContext = await sc.context();
  const admin = await adminContext.newPage();
  const adminApp = await firstSignIn(sc, admin, `${gatehouse.base}/login`, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/account$/);

  // No Microsoft button while SSO is off.
  const visitorContext = await sc.context();
  const visitor = await visitorContext.newPage();
  await visitor.goto(`${gatehouse.base}/login`);
  assert.equal(await visitor.getByRole('link', { name: 'Sign in with Microsoft' }).count(), 0);

  // Settings typed into /admin/sso, with a wrong secret first.
  await admin.goto(`${gatehouse.base}/admin/sso`);
  await sc.snap(admin, 'admin-sso-empty');
  assert.equal(await admin.locator('#redirect-uri').inputValue(), `${gatehouse.base}/sso/callback`);
  await admin.getByLabel('Directory (tenant) ID or verified domain').fill(STAFF_TENANT);
  await admin.getByLabel('Application (client) ID').fill(STAFF_APP.clientId);
  await admin.getByLabel('Client secret value').fill('not-the-secret');
  await admin.getByLabel('Secret expires on').fill('2031-06-30');
  await admin.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByRole('status').waitFor();
  await sc.snap(admin, 'admin-sso-saved');

  await admin.getByRole('button', { name: 'Test connection' }).click();
  await admin.locator('.testreport').waitFor();
  await sc.snap(admin, 'admin-sso-test-wrong-secret');
  const failed = await admin.locator('.testreport').textContent();
  assert.match(failed, /Connection test failed/, failed);
  assert.equal(await admin.locator('.testreport li.fail').count(), 1, `only the secret fails: ${failed}`);
  assert.match(await admin.locator('.testreport li.pass').first().textContent(), new RegExp(`${entra.base}/${STAFF_TENANT}/v2.0`));

  // SSO-only refuses to turn on before a passing test and a linked admin: the button is
  // disabled with the reason, and the server refuses the form even when sent anyway.
  assert.ok(await admin.getByRole('button', { name: 'Turn SSO-only on' }).isDisabled());
  assert.match(await admin.locator('#sso-only-why').textContent(), /every condition above must show ✓/);
  await admin.locator('form[action="/admin/sso/sso-only"]').evaluate((form) => form.submit());
  await admin.getByRole('alert').waitFor();
  await sc.snap(admin, 'admin-sso-only-refused');
  assert.match(await admin.locator('dl.facts').textContent(), /SSO-only\s*off/);

  await admin.getByLabel('Client secret value').fill(STAFF_APP.secret);
  await admin.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByRole('status').waitFor();
  await admin.getByRole('button', { name: 'Test connection' }).click();
  await admin.locator('.testreport').waitFor();
  await sc.snap(admin, 'admin-sso-test-passed');
  const passed = await admin.locator('.testreport').textContent();
  assert.match(passed, /Connection test passed/, passed);
  assert.equal(await admin.locator('.testreport li.fail').count(), 0, passed);
  assert.equal(await admin.locator('.testreport li.pass').count(), await admin.locator('.testreport li').count());

  await admin.getByRole('button', { name: 'Turn Microsoft sign-in on' }).click();
  await admin.getByRole('button', { name: 'Turn Microsoft sign-in off' }).waitFor();
  await sc.snap(admin, 'admin-sso-on');
  assert.match(await admin.locator('dl.facts').textContent(), /Microsoft sign-in\s*on/);

  // The test sign-in runs the real browser flow and shows the claims, creating no session.
  await admin.getByRole('button', { name: 'Test sign-in' }).click();
  await providerSignIn(sc, admin, GRACE.email, GRACE.password, 'entra-login-test-sign-in');
  await admin.getByRole('heading', { name: 'Test sign-in worked' }).waitFor();
  await sc.snap(admin, 'admin-sso-test-sign-in-claims');
  const claims = await admin.locator('dl.facts').textContent();
  assert.ok(claims.includes(STAFF_TENANT), claims);
  assert.ok(claims.includes(GRACE.email) && claims.includes(GRACE.name), claims);
  const graceOid = entra.tenant(STAFF_TENANT).user(GRACE.email).oid;
  assert.ok(claims.includes(graceOid), `the oid claim is shown: ${claims}`);

  // Someone from the tenant who was never invited is refused (just-in-time is off).
  const strangerContext = await sc.context();
  const stranger = await strangerContext.newPage();
  await stranger.goto(`${gatehouse.base}/login`);
  await stranger.getByRole('link', { name: 'Sign in with Microsoft' }).click();
  await providerSignIn(sc, stranger, LINUS.email, LINUS.password, 'entra-login-uninvited');
  await stranger.waitForURL(new RegExp(`^${gatehouse.base}/`));
  await sc.snap(stranger, 'sso-not-registered');
  assert.match(await stranger.locator('main').textContent(), /not registered here/);
  await stranger.goto(`${gatehouse.base}/account`);
  await stranger.waitForURL(/\/login/);
  await strangerContext.close();

  // Invite Grace as an admin; her first Microsoft sign-in links her account.
  await admin.goto(`${gatehouse.base}/admin/users`);
  await admin.getByLabel('Email').fill(GRACE.email);
  await admin.getByLabel('Name').fill(GRACE.name);
  await admin.getByLabel('Role').selectOption('admin');
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  await admin.locator('#invite-link').waitFor();
  await sc.snap(admin, 'admin-users-invited');
  assert.match(await admin.locator('tbody').textContent(), /grace@staff\.example\s*admin\s*invited/);

  await visitor.goto(`${gatehouse.base}/login`);
  await sc.snap(visitor, 'login-with-microsoft');
  await visitor.getByRole('link', { name: 'Sign in with Microsoft' }).click();
  await providerSignIn(sc, visitor, GRACE.email, GRACE.password);
  await visitor.waitForURL(`${gatehouse.base}/account`);
  await sc.snap(visitor, 'account-grace');
  const nav = visitor.getByRole('navigation', { name: 'Account' });
  assert.ok(await nav.getByRole('link', { name: GRACE.name }).isVisible(), 'Grace is signed in');
  assert.ok(await nav.getByRole('link', { name: 'Admin' }).isVisible(), 'as an admin');
  const grace = await gatehouse.cliJson(['user', 'show', '--email', GRACE.email]);
  assert.equal(grace.status, 'active');

  // Grace turns SSO-only on from the admin page.
  await visitor.goto(`${gatehouse.base}/admin/sso`);
  await visitor.getByRole('button', { name: 'Turn SSO-only on' }).click();
  await visitor.getByRole('button', { name: 'Turn SSO-only off' }).waitFor();
  await sc.snap(visitor, 'admin-sso-only-on');
  assert.match(await visitor.locator('dl.facts').textContent(), /SSO-only\s*on/);

  // Olga's password session ended; the login page has no password form any more.
  await admin.goto(`${gatehouse.base}/account`);
  await admin.waitForURL(/\/login/);
  await sc.snap(admin, 'login-sso-only');
  assert.equal(await admin.locator('input[type=password]').count(), 0, 'no password field');
  assert.equal(await admin.locator('form[action="/login"]').count(), 0, 'no password form');
  assert.ok(await admin.getByRole('link', { name: 'Sign in with Microsoft' }).isVisible());

  // A password POST is refused by the server, with a valid CSRF token, both through
  // the emergency form (Olga is not a break-glass account) and sent directly.
  await admin.getByRole('link', { name: 'Emergency access' }).click();
  await submitPassword(admin, ADMIN.email, ADMIN.password);
  await admin.getByRole('alert').waitFor();
  await sc.snap(admin, 'login-emergency-refused');
  assert.match(admin.url(), /\/login$/, 'no second step');
  const token = await csrfToken(admin);
  const direct = await admin.request.post(`${gatehouse.base}/login`, {
    form: { csrf_token: token, email: ADMIN.email, password: ADMIN.password },
    headers: { Origin: gatehouse.base },
    maxRedirects: 0,
  });
  assert.equal(direct.status(), 401, 'password sign-in refused');
  assert.equal(direct.headers().location, undefined, 'no redirect to a next step');
  assert.match(await direct.text(), /role="alert"/);
  await admin.goto(`${gatehouse.base}/account`);
  await admin.waitForURL(/\/login/);

  // A break-glass admin (flag set from the CLI on the running server) still gets in
  // with password + code through emergency access, and the dashboard shows it.
  await gatehouse.cli(['user', 'break-glass', 'on', '--email', ADMIN.email]);
  await admin.goto(`${gatehouse.base}/login?emergency=1`);
  await sc.snap(admin, 'login-emergency');
  await signInEmergency(sc, admin, adminApp);
  await admin.waitForURL(/\/account$/);
  await admin.goto(`${gatehouse.base}/admin`);
  await sc.snap(admin, 'admin-dashboard-break-glass');
  assert.match(await admin.locator('main').textContent(), /[Bb]reak-glass/);

  await adminContext.close();
  await visitorContext.close();
});

async function signInEmergency(sc, page, app) {
  await submitPassword(page, ADMIN.email, ADMIN.password);
  await page.waitForURL(/\/login\/mfa$/);
  await sc.snap(page, 'login-emergency-code');
  await page.getByLabel('Code', { exact: true }).fill(await app.next());
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

