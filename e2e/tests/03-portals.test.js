// Customer portals: the admin sets up the portal app, creates client A with its own
// Entra tenant and Microsoft sign-in (admin consent granted through the consent link),
// and client B with password + TOTP only. A's user signs in at /p/client-a through the
// provider's login form; B's user accepts an invitation and enrols TOTP; A's session
// opening B's portal (or the staff side) is sent to that side's sign-in page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { enrolTotp, firstSignIn, providerSignIn, signIn } from '../lib/flows.js';
import { logoPng } from '../lib/png.js';
import { ALICE, PORTAL_APP, TENANT_A, TENANT_B, OPS_ADMIN, startGatehouseWithEntra } from '../lib/world.js';

const ADMIN = OPS_ADMIN;
const BEA = { email: 'bea@client-b.example', name: 'Bea Brandt', password: 'bea passphrase for e2e' };

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

test('portals: client A with its tenant and Microsoft sign-in, client B with password + TOTP, sessions stay in their portal', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'portals', gatehouse.base);
  const adminContext = await sc.context();
  const admin = await adminContext.newPage();
  await firstSignIn(sc, admin, `${gatehouse.base}/login`, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/account$/);

  // The multi-tenant portal app.
  await admin.goto(`${gatehouse.base}/admin/portal`);
  await sc.snap(admin, 'admin-portal-app');
  assert.equal(await admin.locator('#callback-uri').inputValue(), `${gatehouse.base}/sso/callback`);
  assert.equal(await admin.locator('#consent-uri').inputValue(), `${gatehouse.base}/sso/consent`);
  await admin.getByLabel('Application (client) ID').fill(PORTAL_APP.clientId);
  await admin.getByLabel('Client secret value').fill(PORTAL_APP.secret);
  await admin.getByLabel('Secret expires on').fill('2031-01-31');
  await admin.getByRole('button', { name: 'Save' }).click();
  await admin.getByRole('status').waitFor();
  await sc.snap(admin, 'admin-portal-app-saved');

  // Client A: its tenant, Microsoft sign-in on.
  await addClient(sc, admin, 'Client A Ltd', 'client-a');
  await admin.getByLabel("Client's Directory (tenant) ID").fill(TENANT_A);
  await admin.getByLabel('Sign in with Microsoft (the client\'s tenant)').check();
  await admin.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByRole('status').waitFor();
  await sc.snap(admin, 'admin-client-a-saved');
  assert.ok(await admin.getByLabel('Sign in with Microsoft (the client\'s tenant)').isChecked());

  // Branding: an accent colour and a logo (a multipart upload from the browser).
  await admin.getByLabel('Accent colour').fill('#0b6e4f');
  await admin.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByRole('status').waitFor();
  await admin.getByLabel('Image file').setInputFiles({ name: 'client-a.png', mimeType: 'image/png', buffer: logoPng(96, 32, [11, 110, 79]) });
  await admin.getByRole('button', { name: 'Upload logo' }).click();
  await admin.getByRole('img', { name: 'Client A Ltd logo' }).waitFor();
  await sc.snap(admin, 'admin-client-a-logo');
  assert.ok(await admin.getByRole('img', { name: 'Client A Ltd logo' }).evaluate((img) => img.complete && img.naturalWidth === 96));

  // Before consent, the connection test says so (Entra: AADSTS700016).
  await admin.getByRole('button', { name: 'Test connection' }).click();
  await admin.locator('ul.checks li').first().waitFor();
  await sc.snap(admin, 'admin-client-a-test-before-consent');
  assert.match(await admin.locator('ul.checks').textContent(), /Consent not granted yet/);

  // The client's Entra admin opens the consent link and accepts.
  await admin.getByRole('button', { name: 'Show the admin-consent link' }).click();
  const consentLink = await admin.locator('#consent-link').inputValue();
  await sc.snap(admin, 'admin-client-a-consent-link');
  assert.ok(consentLink.startsWith(`${entra.base}/${TENANT_A}/v2.0/adminconsent?client_id=${PORTAL_APP.clientId}`), consentLink);
  const clientAdminContext = await sc.context();
  const clientAdmin = await clientAdminContext.newPage();
  await clientAdmin.goto(consentLink);
  await sc.snap(clientAdmin, 'entra-admin-consent');
  await clientAdmin.getByRole('button', { name: 'Accept' }).click();
  await clientAdmin.waitForURL(new RegExp(`^${gatehouse.base}/sso/consent`));
  await sc.snap(clientAdmin, 'consent-granted');
  assert.match(await clientAdmin.locator('main').textContent(), /Consent granted/);
  await clientAdminContext.close();

  await admin.reload();
  assert.match(await admin.locator('dd.consent-status').textContent(), /^granted/);
  await admin.getByRole('button', { name: 'Test connection' }).click();
  await admin.locator('ul.checks li').first().waitFor();
  await sc.snap(admin, 'admin-client-a-test-passed');
  assert.equal(await admin.locator('ul.checks li.fail').count(), 0, await admin.locator('ul.checks').textContent());
  assert.match(await admin.locator('ul.checks').textContent(), /Consent granted/);

  // Alice is invited to client A; her Microsoft sign-in links her.
  await inviteTo(sc, admin, 'client-a', ALICE.email, ALICE.name);

  // Client B: password + TOTP only (the default for a new client).
  await addClient(sc, admin, 'Client B GmbH', 'client-b');
  assert.ok(await admin.getByLabel('Email + password').isChecked());
  assert.ok(await admin.getByLabel('Password users must use an authenticator app (TOTP)').isChecked());
  assert.ok(!(await admin.getByLabel('Sign in with Microsoft (the client\'s tenant)').isChecked()));
  await admin.getByLabel("Client's Directory (tenant) ID").fill(TENANT_B);
  // A light accent (the trial's unreadable yellow): every page of B's portal is checked
  // for contrast in both colour schemes by Scenario.snap.
  await admin.getByLabel('Accent colour').fill('#f5e663');
  await admin.getByRole('button', { name: 'Save settings' }).click();
  await admin.getByRole('status').waitFor();
  const beaInvite = await inviteTo(sc, admin, 'client-b', BEA.email, BEA.name);
  assert.ok(beaInvite.startsWith(`${gatehouse.base}/p/client-b/invite/`), beaInvite);

  await admin.goto(`${gatehouse.base}/admin/clients`);
  await sc.snap(admin, 'admin-clients');
  const rows = await admin.locator('tbody').textContent();
  assert.match(rows, /Client A Ltd\s*\/p\/client-a\s*active\s*password \+ TOTP, Microsoft\s*granted/);
  assert.match(rows, /Client B GmbH\s*\/p\/client-b\s*active\s*password \+ TOTP\s*not requested/);

  // Alice signs in to A's portal with Microsoft.
  const aliceContext = await sc.context();
  const alice = await aliceContext.newPage();
  await alice.goto(`${gatehouse.base}/p/client-a/login`);
  await sc.snap(alice, 'portal-a-login');
  assert.match(await alice.locator('header .brand').textContent(), /Client A Ltd/);
  assert.ok(await alice.locator('header img.logo').evaluate((img) => img.complete && img.naturalWidth === 96), 'the logo is shown');
  assert.equal(await alice.locator('header.topbar').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(11, 110, 79)', 'in the accent colour');
  await alice.getByRole('link', { name: 'Sign in with Microsoft' }).click();
  await providerSignIn(sc, alice, ALICE.email, ALICE.password, 'entra-login-tenant-a');
  await alice.waitForURL(`${gatehouse.base}/p/client-a/account`);
  await sc.snap(alice, 'portal-a-account');
  assert.ok(await alice.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: ALICE.name }).isVisible());
  assert.match(await alice.locator('header .brand').textContent(), /Client A Ltd/);

  // Bea accepts her invitation to B's portal: password, then TOTP enrolment.
  const beaContext = await sc.context();
  const bea = await beaContext.newPage();
  await bea.goto(beaInvite);
  await sc.snap(bea, 'portal-b-invite');
  assert.match(await bea.locator('main').textContent(), new RegExp(BEA.email.replace('.', '\\.')));
  await bea.getByLabel('Choose a password').fill(BEA.password);
  await bea.getByLabel('Password again').fill(BEA.password);
  await bea.getByRole('button', { name: 'Continue' }).click();
  const beaApp = await enrolTotp(sc, bea, 'portal-b-mfa-setup');
  await bea.waitForURL(`${gatehouse.base}/p/client-b/account`);
  await sc.snap(bea, 'portal-b-account');
  assert.match(await bea.locator('header .brand').textContent(), /Client B GmbH/);

  // B's sign-in page: password only, no Microsoft button; Bea signs in again with a code.
  await bea.getByRole('button', { name: 'Sign out' }).click();
  await bea.waitForURL(/\/p\/client-b\/login/);
  assert.equal(await bea.getByRole('link', { name: 'Sign in with Microsoft' }).count(), 0);
  await signIn(sc, bea, `${gatehouse.base}/p/client-b/login`, BEA.email, BEA.password, beaApp);
  await bea.waitForURL(`${gatehouse.base}/p/client-b/account`);
  assert.ok(await bea.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: BEA.name }).isVisible());

  // Alice's A session opens B's portal: sent to B's sign-in page, signed in nowhere there.
  await alice.goto(`${gatehouse.base}/p/client-b/account`);
  await alice.waitForURL(/\/p\/client-b\/login/);
  await sc.snap(alice, 'portal-b-login-from-a-session');
  assert.match(await alice.locator('header .brand').textContent(), /Client B GmbH/);
  assert.equal(await alice.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
  assert.equal(await alice.getByRole('navigation', { name: 'Account' }).count(), 0, 'nobody is signed in here');
  // …and the staff side likewise.
  await alice.goto(`${gatehouse.base}/account`);
  await alice.waitForURL(/\/login/);
  assert.match(await alice.locator('header .brand').textContent(), /Gatehouse/);
  // Her own portal still knows her.
  await alice.goto(`${gatehouse.base}/p/client-a/account`);
  assert.equal(alice.url(), `${gatehouse.base}/p/client-a/account`);

  await admin.goto(`${gatehouse.base}/admin/clients/client-a/users`);
  await sc.snap(admin, 'admin-client-a-users');
  assert.match(await admin.locator('tbody').textContent(), /alice@client-a\.example\s*active\s*no\s*linked/);

  for (const c of [adminContext, aliceContext, beaContext]) await c.close();
});

async function addClient(sc, admin, name, slug) {
  await admin.goto(`${gatehouse.base}/admin/clients`);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Short name (slug)').fill(slug);
  await admin.getByRole('button', { name: 'Add client' }).click();
  await admin.waitForURL(`${gatehouse.base}/admin/clients/${slug}`);
  await sc.snap(admin, `admin-${slug}`);
  assert.equal(await admin.getByRole('heading', { level: 1 }).textContent(), name);
  assert.equal(await admin.locator('#login-url').inputValue(), `${gatehouse.base}/p/${slug}/login`);
}

async function inviteTo(sc, admin, slug, email, name) {
  await admin.goto(`${gatehouse.base}/admin/clients/${slug}/users`);
  await admin.getByLabel('Email', { exact: true }).fill(email);
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  await admin.locator('#invite-link').waitFor();
  await sc.snap(admin, `admin-${slug}-invited`);
  return admin.locator('#invite-link').inputValue();
}
