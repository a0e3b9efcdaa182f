// Passkeys in Chromium with a virtual authenticator (the DevTools protocol's
// WebAuthn domain: CTAP2, internal transport, resident keys, user verification): a
// staff admin registers a passkey on /account/passkeys, signs out, signs in with
// password + passkey, then with the passkey alone once the switch is on; a portal
// user does the same on their portal; the staff passkey is refused on the portal.
// Gatehouse runs with public_url on `localhost` (a relying-party id cannot be an IP).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DESKTOP, Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { enrolTotp, submitPassword } from '../lib/flows.js';
import { Gatehouse } from '../lib/gatehouse.js';

const ADMIN = 'ada@staff.example';
const PORTAL_USER = 'pat@acme.example';
const PASSWORD = 'correct horse battery staple';

let browser;
let gatehouse;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  gatehouse = await Gatehouse.create('', undefined, 'localhost');
  await gatehouse.serve();
});

after(async () => {
  await browser?.close();
  await gatehouse?.stop();
});

/** A browser profile reaching only Gatehouse, with its own virtual authenticator. */
async function withAuthenticator() {
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.route('**/*', (route) => (
    route.request().url().startsWith(`${gatehouse.base}/`) ? route.continue() : route.abort()
  ));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { context, page, cdp, authenticatorId };
}

async function credentialCount(cdp, authenticatorId) {
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  return credentials.length;
}

/** Adds a passkey named `name` on `{prefix}/account/passkeys`. */
async function addPasskey(sc, page, prefix, name) {
  await page.goto(`${gatehouse.base}${prefix}/account/passkeys`);
  await sc.snap(page, 'passkeys');
  await page.getByLabel('Name of this passkey').fill(name);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(/\/account\/passkeys\?added=1$/, { timeout: 10_000 }).catch(async (e) => {
    const status = await page.locator('.passkey-status').textContent().catch(() => '');
    const alert = await page.getByRole('alert').textContent().catch(() => '');
    const opts = await page.locator('form[data-passkey]').getAttribute('data-options');
    throw new Error(`options ${opts} passkey not added: status "${status}", alert "${alert}", at ${page.url()}: ${e.message}`);
  });
  await sc.snap(page, 'passkey-added');
  assert.ok(await page.getByRole('cell', { name }).isVisible(), 'the new passkey is listed');
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.waitForURL(/\/login\?signed_out=1$/);
}

test('passkeys: register, password + passkey, passkey alone, portal user, staff passkey refused on the portal', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'passkeys', gatehouse.base);
  await gatehouse.createAdmin(ADMIN, 'Ada', PASSWORD);
  await gatehouse.cli(['client', 'add', '--slug', 'acme', '--name', 'Acme']);

  // Staff: first sign-in with TOTP, then a passkey on the account page.
  const staff = await withAuthenticator();
  await staff.page.goto(`${gatehouse.base}/login`);
  await sc.snap(staff.page, 'login');
  await submitPassword(staff.page, ADMIN, PASSWORD);
  await enrolTotp(sc, staff.page);
  await addPasskey(sc, staff.page, '', 'Ada laptop');
  assert.equal(await credentialCount(staff.cdp, staff.authenticatorId), 1);
  await signOut(staff.page);

  // Password, then the passkey instead of a code.
  await submitPassword(staff.page, ADMIN, PASSWORD);
  await staff.page.waitForURL(/\/login\/mfa$/);
  await sc.snap(staff.page, 'second-step');
  assert.ok(await staff.page.getByLabel('Code', { exact: true }).isVisible(), 'the code stays possible');
  await staff.page.getByRole('button', { name: 'Use a passkey' }).click();
  await staff.page.waitForURL(/\/account$/);
  await signOut(staff.page);

  // The passkey alone, once staff passkey sign-in is on.
  await gatehouse.cli(['passkey-sign-in', 'on']);
  // Chromium's virtual authenticator answers the page's autofill (conditional
  // mediation) request at once, so opening the page signs in; a person would pick the
  // passkey in the email field's suggestions or press "Sign in with a passkey".
  await staff.page.goto(`${gatehouse.base}/login`);
  await staff.page.waitForURL(/\/account$/);
  await sc.snap(staff.page, 'signed-in-with-passkey');
  assert.ok(await staff.page.getByRole('cell', { name: 'passkey', exact: true }).isVisible(), 'the session says how');
  await signOut(staff.page);

  // A portal user: invitation, password, TOTP, a passkey; then the passkey alone.
  await gatehouse.cli(['passkey-sign-in', 'on', '--client', 'acme']);
  const link = (await gatehouse.cli(['user', 'invite', '--email', PORTAL_USER, '--name', 'Pat', '--client', 'acme']))
    .match(/http\S+\/invite\/\S+/)[0];
  const portal = await withAuthenticator();
  await portal.page.goto(link);
  await sc.snap(portal.page, 'portal-invite');
  await portal.page.getByLabel('Choose a password').fill(PASSWORD);
  await portal.page.getByLabel('Password again').fill(PASSWORD);
  await portal.page.getByRole('button', { name: 'Continue' }).click();
  await enrolTotp(sc, portal.page, 'portal-mfa-setup');
  await addPasskey(sc, portal.page, '/p/acme', 'Pat phone');
  await signOut(portal.page);
  await portal.page.goto(`${gatehouse.base}/p/acme/login`);
  await portal.page.waitForURL(/\/p\/acme\/account$/);
  await sc.snap(portal.page, 'portal-account');

  // The staff passkey on the portal (offered by autofill, then pressed): refused.
  await staff.page.goto(`${gatehouse.base}/p/acme/login`);
  await staff.page.getByRole('alert').waitFor();
  await staff.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await staff.page.waitForLoadState('load');
  await staff.page.getByRole('alert').waitFor();
  await sc.snap(staff.page, 'portal-refuses-staff-passkey');
  assert.match(await staff.page.getByRole('alert').textContent(), /not accepted/);
  const answer = await staff.page.goto(`${gatehouse.base}/p/acme/account`);
  assert.match(staff.page.url(), /\/p\/acme\/login/, `no portal session (${answer.status()})`);

  await staff.context.close();
  await portal.context.close();
});
