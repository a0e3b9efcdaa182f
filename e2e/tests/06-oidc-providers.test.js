// Generic OpenID Connect providers (DESIGN §10) against a real certified provider
// (panva's oidc-provider, tests' lib/oidc.js) in Chromium: configured with the CLI
// for staff and for a client's portal, sign-in through the provider's login page,
// just-in-time accounts for the allowed domain only, an unverified address refused,
// and require_mfa both ways (amr with and without "mfa").

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { providerSignIn } from '../lib/flows.js';
import { startOidcProvider } from '../lib/oidc.js';
import { startGatehouseWithEntra } from '../lib/world.js';

const CLIENT = { clientId: 'gatehouse-e2e', secret: 'corp-id-secret-0123456789' };
const ADA = { email: 'ada@corp.example', password: 'Ada-corp-pass-1', name: 'Ada Corp', emailVerified: true, amr: ['pwd'] };
const MIA = { email: 'mia@corp.example', password: 'Mia-corp-pass-1', name: 'Mia Multi', emailVerified: true, amr: ['pwd', 'mfa'] };
const UVA = { email: 'uva@corp.example', password: 'Uva-corp-pass-1', name: 'Uva Unverified', emailVerified: false, amr: ['pwd'] };
const EVE = { email: 'eve@elsewhere.example', password: 'Eve-corp-pass-1', name: 'Eve Elsewhere', emailVerified: true, amr: ['pwd'] };
const CAL = { email: 'cal@acme.example', password: 'Cal-corp-pass-1', name: 'Cal Client', emailVerified: true, amr: ['pwd'] };

let browser;
let gatehouse;
let oidc;
let close;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  ({ gatehouse, close } = await startGatehouseWithEntra());
  oidc = await startOidcProvider({
    users: [ADA, MIA, UVA, EVE, CAL],
    client: { ...CLIENT, redirectUris: [`${gatehouse.base}/sso/callback`] },
  });
});

after(async () => {
  await browser?.close();
  await oidc?.close();
  await close?.();
});

/** A fresh browser signs in as `who` from `loginUrl` with the button `button`. */
async function signInWith(sc, loginUrl, button, who, label) {
  const context = await sc.context();
  const page = await context.newPage();
  await page.goto(loginUrl);
  await page.getByRole('link', { name: button }).click();
  await providerSignIn(sc, page, who.email, who.password, `${label}-provider`);
  await page.waitForLoadState();
  await sc.snap(page, label);
  return page;
}

test('generic OIDC providers for staff and a portal: sign-in, JIT by domain, verified email, require_mfa', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'oidc-providers', gatehouse.base);
  await gatehouse.cli(['idp', 'add', '--id', 'corp', '--name', 'Corp ID', '--issuer', oidc.base, '--client-id', CLIENT.clientId,
    '--client-secret-stdin', '--jit', 'on', '--domains', 'corp.example'], CLIENT.secret);
  const tested = await gatehouse.cliJson(['idp', 'test', 'corp']);
  assert.equal(tested.passed, true, JSON.stringify(tested));
  await gatehouse.cli(['idp', 'enable', 'corp']);

  // Just in time for the allowed domain.
  let page = await signInWith(sc, `${gatehouse.base}/login`, 'Sign in with Corp ID', ADA, 'staff-ada');
  await page.waitForURL(/\/account$/);
  const ada = await gatehouse.cliJson(['user', 'show', '--email', ADA.email]);
  assert.equal(ada.status, 'active');
  // Another domain: not registered.
  page = await signInWith(sc, `${gatehouse.base}/login`, 'Sign in with Corp ID', EVE, 'staff-eve');
  assert.match(await page.locator('h1').textContent(), /Not registered here/);
  // An address the provider does not vouch for: neither provisioned nor linked.
  page = await signInWith(sc, `${gatehouse.base}/login`, 'Sign in with Corp ID', UVA, 'staff-unverified');
  assert.match(await page.locator('h1').textContent(), /Not registered here/);
  const users = await gatehouse.cliJson(['user', 'list']);
  assert.ok(!JSON.stringify(users).includes(UVA.email), 'nobody created for the unverified address');

  // require_mfa: a password-only sign-in at the provider opens no session; one with mfa does.
  await gatehouse.cli(['idp', 'set', 'corp', '--require-mfa', 'on']);
  page = await signInWith(sc, `${gatehouse.base}/login`, 'Sign in with Corp ID', ADA, 'staff-ada-no-mfa');
  assert.match(await page.locator('h1').textContent(), /Multi-factor authentication required/);
  page = await signInWith(sc, `${gatehouse.base}/login`, 'Sign in with Corp ID', MIA, 'staff-mia-mfa');
  assert.match(page.url(), /\/account$/, `${page.url()}: ${await page.locator('main').textContent()}\n${await gatehouse.cli(['audit', '--limit', '2'])}`);

  // A client's portal with its own provider entry at the same issuer.
  await gatehouse.cli(['client', 'add', '--slug', 'acme', '--name', 'Acme']);
  await gatehouse.cli(['idp', 'add', '--client', 'acme', '--id', 'corp', '--name', 'Acme ID', '--issuer', oidc.base,
    '--client-id', CLIENT.clientId, '--client-secret-stdin', '--jit', 'on', '--domains', 'acme.example'], CLIENT.secret);
  await gatehouse.cli(['idp', 'enable', 'corp', '--client', 'acme']);
  page = await signInWith(sc, `${gatehouse.base}/p/acme/login`, 'Sign in with Acme ID', CAL, 'portal-cal');
  await page.waitForURL(/\/p\/acme\/account$/);
  const cal = await gatehouse.cliJson(['user', 'show', '--email', CAL.email, '--client', 'acme']);
  assert.equal(cal.status, 'active');
});
