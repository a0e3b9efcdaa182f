// Steps several scenarios share, done the way a person does them: typing into the
// labelled fields and pressing the buttons. Each step screenshots the pages it visits.

import assert from 'node:assert/strict';

import { Authenticator } from './totp.js';

/**
 * On the TOTP enrolment page: reads the setup key from the page, confirms a code,
 * checks the ten recovery codes, and continues. Returns the authenticator.
 * `javascript`: whether the browser runs the page's script.
 */
export async function enrolTotp(sc, page, label = 'mfa-setup', { javascript = true } = {}) {
  await page.waitForURL(/\/mfa\/setup$/);
  await sc.snap(page, label);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Set up your authenticator app');
  // The Copy buttons are a progressive enhancement: shown by the script, hidden without it.
  assert.equal(await page.getByRole('button', { name: 'Copy' }).first().isVisible(), javascript,
    javascript ? 'the script shows the Copy buttons' : 'without JavaScript the Copy buttons stay hidden');
  const secret = await page.getByLabel('Setup key').inputValue();
  assert.match(secret, /^[A-Z2-7]{16,}$/, 'the setup key is base32');
  const otpauth = await page.locator('#otpauth').inputValue();
  assert.ok(otpauth.startsWith('otpauth://totp/') && otpauth.includes(`secret=${secret}`), otpauth);
  const app = new Authenticator(secret);
  await page.getByLabel('Code from your app').fill(await app.next());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  await sc.snap(page, 'recovery-codes');
  const codes = await page.locator('ol.codes li code').allTextContents();
  assert.equal(codes.length, 10, 'ten recovery codes are shown');
  assert.equal(new Set(codes).size, 10, 'all different');
  await page.getByRole('link', { name: /I have saved them/ }).click();
  app.recoveryCodes = codes;
  return app;
}

/** Fills the password form of the sign-in page the browser is on. */
export async function submitPassword(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Enters the next TOTP code on the second sign-in step. */
export async function submitCode(sc, page, app, label = 'login-code') {
  await page.waitForURL(/\/login\/mfa$/);
  await sc.snap(page, label);
  await page.getByLabel('Code', { exact: true }).fill(await app.next());
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

/**
 * A person whose account has a password but no authenticator yet signs in for the first
 * time at `loginUrl`: password, enrolment, recovery codes. Returns the authenticator.
 */
export async function firstSignIn(sc, page, loginUrl, email, password) {
  await page.goto(loginUrl);
  await sc.snap(page, 'login');
  await submitPassword(page, email, password);
  return enrolTotp(sc, page);
}

/** Signs in with password + TOTP at `loginUrl`. */
export async function signIn(sc, page, loginUrl, email, password, app) {
  await page.goto(loginUrl);
  await sc.snap(page, 'login');
  await submitPassword(page, email, password);
  await submitCode(sc, page, app);
}

/**
 * On the look-alike's own login form (oidc-provider's interaction page): types the
 * account and password and signs in; answers its consent page if it shows one.
 */
export async function providerSignIn(sc, page, email, password, label = 'entra-login') {
  await page.waitForURL(/\/interaction\//);
  await sc.snap(page, label);
  await page.locator('input[name=login]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.waitForLoadState();
  if (/\/interaction\//.test(page.url()) && (await page.getByRole('button', { name: 'Continue' }).count()) > 0) {
    await sc.snap(page, `${label}-consent`);
    await page.getByRole('button', { name: 'Continue' }).click();
  }
}

/** The CSRF token in the first form of the page. */
export async function csrfToken(page) {
  return page.locator('input[name=csrf_token]').first().inputValue();
}
