// Pages work without JavaScript (a browser with JavaScript off signs in for the first
// time, enrols TOTP, signs out and signs in with password + TOTP), and keyboard focus
// is visible. Every page any scenario visits is also checked for unlabelled controls
// (Scenario.snap).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, assertLabelled, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { enrolTotp, signIn, submitPassword } from '../lib/flows.js';
import { Gatehouse } from '../lib/gatehouse.js';

const USER = { email: 'nojs@staff.example', name: 'Nora Noscript', password: 'no script passphrase' };

let browser;
let gatehouse;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  gatehouse = await Gatehouse.create();
  await gatehouse.createAdmin(USER.email, USER.name, USER.password);
  await gatehouse.serve();
});

after(async () => {
  await browser?.close();
  await gatehouse?.stop();
});

test('without JavaScript: first sign-in with enrolment, sign out, password + TOTP sign-in', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'no-js', gatehouse.base);
  const context = await sc.context({ javaScriptEnabled: false });
  const page = await context.newPage();

  await page.goto(`${gatehouse.base}/login`);
  await sc.snap(page, 'login');
  await submitPassword(page, USER.email, USER.password);
  // The key is there to read without the script (which only adds Copy buttons).
  const app = await enrolTotp(sc, page, 'mfa-setup', { javascript: false });
  await page.waitForURL(/\/account$/);
  await sc.snap(page, 'account');
  assert.ok(await page.getByRole('link', { name: USER.name }).isVisible());

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  await signIn(sc, page, `${gatehouse.base}/login`, USER.email, USER.password, app);
  await page.waitForURL(/\/account$/);
  assert.ok(await page.getByRole('link', { name: USER.name }).isVisible(), 'signed in without JavaScript');

  // The admin console too: invite someone, open their page, take an action.
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.waitForURL(/\/admin$/);
  await sc.snap(page, 'admin-dashboard');
  await page.goto(`${gatehouse.base}/admin/users`);
  await page.getByLabel('Email').fill('new.hire@staff.example');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  await page.locator('#invite-link').waitFor();
  await sc.snap(page, 'admin-users-invited');
  await page.getByRole('link', { name: 'new.hire@staff.example' }).click();
  await sc.snap(page, 'admin-user');
  await page.getByRole('link', { name: 'Disable and sign out…' }).click();
  await sc.snap(page, 'admin-user-disable-confirm');
  assert.match(await page.locator('main').textContent(), /cannot sign in/);
  await page.getByRole('button', { name: 'Disable and sign out' }).click();
  await page.getByRole('button', { name: 'Enable' }).waitFor();
  assert.match(await page.locator('dl.facts').textContent(), /Status\s*disabled/);
  await page.goto(`${gatehouse.base}/admin/audit`);
  await sc.snap(page, 'admin-audit');
  await context.close();
});

test('keyboard focus is visible on links, fields and buttons', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'focus', gatehouse.base);
  const context = await sc.context();
  const page = await context.newPage();
  await page.goto(`${gatehouse.base}/login`);
  await assertLabelled(page, 'login');
  // The page opens with the email field focused (the one field it needs); from the
  // top of the page, the skip link comes first.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email');
  await page.evaluate(() => {
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });

  const seen = [];
  for (let i = 0; i < 6; i += 1) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      return {
        what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).replace(/ /g, '.')}` : ''}`,
        focusVisible: el.matches(':focus-visible'),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor,
        boxShadow: style.boxShadow,
        onScreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight,
      };
    });
    seen.push(focus);
    if (focus.what === 'body') continue;
    assert.ok(focus.focusVisible, `${focus.what} matches :focus-visible after Tab`);
    const outlined = focus.outlineStyle !== 'none' && focus.outlineWidth >= 2;
    const shadowed = focus.boxShadow && focus.boxShadow !== 'none';
    assert.ok(outlined || shadowed, `${focus.what} shows a focus indicator: ${JSON.stringify(focus)}`);
    assert.ok(focus.onScreen, `${focus.what} is on screen when focused: ${JSON.stringify(focus)}`);
    if (i === 0) await sc.snap(page, 'login-focus-skip-link');
    if (focus.what.startsWith('input#email')) await sc.snap(page, 'login-focus-email');
  }
  const order = seen.map((f) => f.what);
  assert.equal(order[0], 'a.skip', `the skip link comes first: ${order}`);
  for (const expected of ['input#email', 'input#password', 'button.primary']) {
    assert.ok(order.includes(expected), `${expected} is reachable by Tab: ${order}`);
  }
  await context.close();
});
