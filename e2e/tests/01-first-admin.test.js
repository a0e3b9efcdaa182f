// First start: the administrator opens the printed setup link, creates their account,
// enrols an authenticator app (the test reads the key off the page and computes the
// codes), sees their recovery codes once, signs out, and signs in with password + code.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { enrolTotp, submitCode, submitPassword } from '../lib/flows.js';
import { Gatehouse } from '../lib/gatehouse.js';

const EMAIL = 'ada@staff.example';
const PASSWORD = 'correct horse battery staple';

let browser;
let gatehouse;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  gatehouse = await Gatehouse.create();
  await gatehouse.serve();
});

after(async () => {
  await browser?.close();
  await gatehouse?.stop();
});

test('first admin: setup link, TOTP enrolment, recovery codes, sign out, sign in with password + TOTP', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'first-admin', gatehouse.base);
  const link = await gatehouse.setupLink();
  assert.match(link, new RegExp(`^${gatehouse.base}/setup/[A-Za-z0-9_-]{20,}$`));

  const context = await sc.context();
  const page = await context.newPage();

  // Before setup, the sign-in page exists but nobody can sign in yet.
  await page.goto(`${gatehouse.base}/`);
  await page.waitForURL(/\/login$/);

  await page.goto(link);
  await sc.snap(page, 'setup');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Create the first administrator');

  // A mismatched confirmation is refused with a message; the form keeps the email.
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill('something else entirely');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('alert').waitFor();
  await sc.snap(page, 'setup-mismatch');
  assert.match(await page.getByRole('alert').textContent(), /match/i);
  assert.equal(await page.getByLabel('Email').inputValue(), EMAIL);

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  const app = await enrolTotp(sc, page);

  await page.waitForURL(/\/account$/);
  await sc.snap(page, 'account');
  await assertSignedInAs(page, 'Ada Lovelace');

  // The setup link worked once.
  const again = await context.newPage();
  const reuse = await again.goto(link);
  assert.ok(reuse.status() >= 400, `a used setup link is refused (got ${reuse.status()})`);
  await sc.snap(again, 'setup-link-used');
  await again.close();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  await sc.snap(page, 'signed-out');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  const account = await page.goto(`${gatehouse.base}/account`);
  assert.match(page.url(), /\/login/, 'the account page needs a session again');
  assert.ok(account.ok());

  // Password + a wrong code: refused, and the code page stays.
  await page.goto(`${gatehouse.base}/login`);
  await submitPassword(page, EMAIL, PASSWORD);
  await page.waitForURL(/\/login\/mfa$/);
  await page.getByLabel('Code', { exact: true }).fill(app.wrong());
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.getByRole('alert').waitFor();
  await sc.snap(page, 'login-code-wrong');
  assert.match(page.url(), /\/login\/mfa$/, 'a wrong code keeps the second step');

  // The next code (a later time step than the enrolment's) signs in.
  await submitCode(sc, page, app);
  await page.waitForURL(/\/account$/);
  await sc.snap(page, 'account-after-sign-in');
  await assertSignedInAs(page, 'Ada Lovelace');
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.waitForURL(/\/admin$/);
  await sc.snap(page, 'admin-dashboard');
  await context.close();
});

async function assertSignedInAs(page, name) {
  const nav = page.getByRole('navigation', { name: 'Account' });
  assert.ok(await nav.getByRole('link', { name }).isVisible(), `${name} is shown as signed in`);
  assert.ok(await nav.getByRole('button', { name: 'Sign out' }).isVisible());
}
