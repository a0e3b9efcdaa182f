// What every Gatehouse page must be for everyone, checked in the page itself on every
// page a scenario visits: axe-core (injected through the DevTools protocol, so the
// strict CSP stays on) at both widths and in both colour schemes for unique ids,
// labelled controls, named buttons and links, and text contrast of at least 4.5:1;
// and on a client's portal, no link to the staff pages and no "Gatehouse" anywhere a
// person reads.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The axe rules that state the checks. */
const RULES = [
  'duplicate-id', 'duplicate-id-active', 'duplicate-id-aria',
  'label', 'form-field-multiple-labels', 'select-name',
  'button-name', 'link-name', 'image-alt',
  'color-contrast',
  'aria-valid-attr', 'aria-valid-attr-value', 'aria-allowed-attr',
];

/** axe-core's violations on the page as it is now, one line each. */
async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE);
  }
  return page.evaluate(async (rules) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'rule', values: rules },
      resultTypes: ['violations'],
    });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id} at ${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`));
  }, RULES);
}

/**
 * Runs the checks at each size in `sizes`, in the light and the dark colour scheme,
 * and leaves the page as it was.
 */
export async function assertAccessible(page, what, sizes) {
  const original = page.viewportSize();
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    for (const size of sizes) {
      await page.setViewportSize(size);
      for (const line of await violations(page)) {
        found.push(`${colorScheme} ${size.width}x${size.height}: ${line}`);
      }
    }
  }
  await page.emulateMedia({ colorScheme: null });
  if (original) await page.setViewportSize(original);
  assert.deepEqual([...new Set(found)], [], `${what} (${page.url()}): accessibility`);
}

/**
 * On a portal page (`/p/{slug}/…`): every link and form stays in the portal (or goes
 * to our assets or to the identity provider), and the text says nothing of Gatehouse.
 */
export async function assertPortalOwn(page, what, gatehouseBase) {
  const url = new URL(page.url());
  const match = /^\/p\/([^/]+)/.exec(url.pathname);
  if (!url.href.startsWith(gatehouseBase) || !match) return;
  const prefix = `/p/${match[1]}`;
  const targets = await page.evaluate(() => [
    ...[...document.querySelectorAll('a[href]')].map((a) => a.href),
    ...[...document.querySelectorAll('form[action]')].map((f) => f.action),
  ]);
  const staff = targets.filter((t) => {
    const u = new URL(t);
    if (u.origin !== new URL(gatehouseBase).origin) return false; // the provider's pages
    return !(u.pathname === prefix || u.pathname.startsWith(`${prefix}/`) || u.pathname.startsWith('/assets/'));
  });
  assert.deepEqual(staff, [], `${what} (${page.url()}): links out of the portal`);
  const text = await page.evaluate(() => `${document.title}\n${document.body.innerText}`);
  assert.ok(!/gatehouse/i.test(text), `${what} (${page.url()}): says Gatehouse:\n${text}`);
}
