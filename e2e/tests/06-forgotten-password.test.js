// A forgotten password: "Forgot password?" on the sign-in page, the reset email read
// from a real SMTP server, the link opened in the browser, a new password chosen, and
// the next sign-in still asks for the authenticator code before the account opens.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { firstSignIn, submitCode, submitPassword } from '../lib/flows.js';
import { Gatehouse } from '../lib/gatehouse.js';
import { SmtpServer, skipWithoutSmtp } from '../lib/smtp.js';

const EMAIL = 'grace@staff.example';
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a completely new passphrase 2026';

const skip = skipWithoutBrowser || skipWithoutSmtp;

let browser;
let gatehouse;
let smtp;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  smtp = await SmtpServer.start();
  gatehouse = await Gatehouse.create(smtp.config());
  await gatehouse.serve();
  await gatehouse.createAdmin(EMAIL, 'Grace Hopper', PASSWORD);
});

after(async () => {
  await browser?.close();
  await gatehouse?.stop();
  await smtp?.stop();
});

test('forgotten password: email from the SMTP server, reset link, new password, TOTP, signed in', { skip }, async () => {
  const sc = new Scenario(browser, 'forgotten-password', gatehouse.base);
  const first = await sc.context();
  const setup = await first.newPage();
  const app = await firstSignIn(sc, setup, `${gatehouse.base}/login`, EMAIL, PASSWORD);
  await setup.waitForURL(/\/account$/);
  await first.close();

  const context = await sc.context();
  const page = await context.newPage();
  await page.goto(`${gatehouse.base}/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL(/\/login\/forgot$/);
  await sc.snap(page, 'forgot');
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByRole('button', { name: 'Email me a link' }).click();
  await page.waitForURL(/\/login\/forgot\?sent=1$/);
  await sc.snap(page, 'forgot-sent');
  assert.match(await page.getByRole('status').first().textContent(), /we have emailed it a link/);

  const mail = await smtp.waitFor(EMAIL, /Reset your/);
  const link = /(http:\/\/\S+\/reset\/[A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
  assert.ok(link, `a reset link in the mail: ${mail.text}`);
  assert.ok(link.startsWith(`${gatehouse.base}/reset/`), link);

  await page.goto(link);
  await sc.snap(page, 'reset');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await page.waitForURL(/\/login\?reset=1$/);
  await sc.snap(page, 'reset-done');

  // The link worked once.
  const again = await context.newPage();
  const reuse = await again.goto(link);
  assert.equal(reuse.status(), 404, 'a used reset link is refused');
  await again.close();

  // The new password, then still the authenticator code.
  await submitPassword(page, EMAIL, NEW_PASSWORD);
  await submitCode(sc, page, app, 'login-code-after-reset');
  await page.waitForURL(/\/account$/);
  await sc.snap(page, 'signed-in');
  const nav = page.getByRole('navigation', { name: 'Account' });
  assert.ok(await nav.getByRole('link', { name: 'Grace Hopper' }).isVisible());

  // And the user was told.
  await smtp.waitFor(EMAIL, /password was reset/);
  await context.close();
});
