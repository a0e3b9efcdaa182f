// Debian's Chromium driven by playwright-core (never a downloaded browser), and what
// every scenario does on every page it visits: a screenshot at a desktop and a phone
// size, and — on Gatehouse's own pages — a check that every form control has a label,
// axe-core's checks in both colour schemes and, on portals, that the page is the
// client's own (lib/a11y.js).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { assertAccessible, assertPortalOwn } from './a11y.js';
import { SHOTS } from './paths.js';

/** The browser: GATEHOUSE_E2E_CHROMIUM, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.GATEHOUSE_E2E_CHROMIUM || '/usr/bin/chromium';

const UNDER_CI = process.env.CI === 'true';

/**
 * `false` when the browser is there (or under CI=true, where its absence must fail the
 * run), else the reason to skip — so a developer without Chromium is told, not failed.
 */
export const skipWithoutBrowser = existsSync(CHROMIUM) || UNDER_CI
  ? false
  : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium); skipped outside CI`;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Launches headless Chromium; a missing browser is an error (the CI=true failure). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: a missing browser fails the suite under CI=true (apt-get install -y chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine's network is closed: without these, Chromium's own background
    // connections are refused over and over.
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** One scenario's browser: contexts (cookie jars), numbered screenshots, label checks. */
export class Scenario {
  /**
   * @param {string} name     prefix of the screenshot files, e.g. "staff-sso"
   * @param {string} gatehouse  Gatehouse's base URL (pages there get the label check)
   */
  constructor(browser, name, gatehouse) {
    this.browser = browser;
    this.name = name;
    this.gatehouse = gatehouse;
    this.count = 0;
    this.shots = [];
    this.noScript = new WeakSet();
    mkdirSync(SHOTS, { recursive: true });
    // This scenario's screenshots from an earlier run would mix with this run's.
    for (const file of readdirSync(SHOTS)) {
      if (file.startsWith(`${name}-`) && file.endsWith('.png')) rmSync(path.join(SHOTS, file));
    }
  }

  /** A fresh browser profile (its own cookies), at desktop size. Only loopback is reachable. */
  async context(options = {}) {
    const context = await this.browser.newContext({ viewport: DESKTOP, ...options });
    // Without JavaScript nothing can be evaluated in the page: those pages get the
    // label check only (their markup is the same as with JavaScript).
    if (options.javaScriptEnabled === false) this.noScript.add(context);
    await context.route('**/*', (route) => {
      const url = route.request().url();
      return url.startsWith('http://127.0.0.1:') ? route.continue() : route.abort();
    });
    return context;
  }

  /**
   * Screenshots the page at 1280×800 and 390×844 as
   * `<scenario>-<nn>-<what>-<width>x<height>.png`, then checks its labels.
   */
  async snap(page, what) {
    this.count += 1;
    const stem = `${this.name}-${String(this.count).padStart(2, '0')}-${what}`;
    const original = page.viewportSize() || DESKTOP;
    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      const file = path.join(SHOTS, `${stem}-${size.width}x${size.height}.png`);
      await page.screenshot({ path: file, fullPage: true });
      this.shots.push(file);
    }
    await page.setViewportSize(original);
    if (page.url().startsWith(this.gatehouse)) {
      await assertLabelled(page, what);
      if (!this.noScript.has(page.context())) {
        await assertAccessible(page, what, [DESKTOP, PHONE]);
        await assertPortalOwn(page, what, this.gatehouse);
      }
    }
  }
}

/**
 * Every visible form control (`input` other than hidden, `select`, `textarea`) has a
 * `<label for>` naming it, a wrapping label, or an aria-label / aria-labelledby.
 * Read from the DOM with locators, so it also works with JavaScript disabled.
 */
export async function assertLabelled(page, what) {
  const controls = page.locator('input:not([type=hidden]), select, textarea');
  const labelFor = new Set();
  for (const label of await page.locator('label[for]').all()) {
    labelFor.add(await label.getAttribute('for'));
  }
  const missing = [];
  const n = await controls.count();
  for (let i = 0; i < n; i += 1) {
    const control = controls.nth(i);
    const id = await control.getAttribute('id');
    const aria = (await control.getAttribute('aria-label')) || (await control.getAttribute('aria-labelledby'));
    const wrapped = await control.locator('xpath=ancestor::label').count();
    if (!(id && labelFor.has(id)) && !aria && !wrapped) {
      missing.push(`<${await control.evaluate((el) => el.outerHTML).catch(() => `control ${i} name=${id}`)}>`);
    }
  }
  assert.deepEqual(missing, [], `${what} (${page.url()}): controls without a label`);
}
