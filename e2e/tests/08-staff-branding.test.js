// The staff side's own look: an admin names the organisation and uploads its logo on
// the admin console's Branding page; the staff sign-in shows the name in the title and
// top bar and the logo on the card (checked for labels, contrast and ids like every
// page), and a client's portal shows none of it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { firstSignIn } from '../lib/flows.js';
import { Gatehouse } from '../lib/gatehouse.js';
import { logoPng } from '../lib/png.js';

const ADMIN = { email: 'ida@staff.example', name: 'Ida Admin', password: 'a passphrase for branding e2e' };
const ORG = 'Northwind Traders';

let browser;
let gatehouse;

before(async () => {
  if (skipWithoutBrowser) return;
  browser = await launchBrowser();
  gatehouse = await Gatehouse.create();
  await gatehouse.createAdmin(ADMIN.email, ADMIN.name, ADMIN.password);
  await gatehouse.cli(['client', 'add', '--slug', 'acme', '--name', 'Acme Ltd']);
  await gatehouse.serve();
});

after(async () => {
  await browser?.close();
  await gatehouse?.stop();
});

test('staff branding: the organisation name and logo set in the console show on the staff sign-in, not on portals', { skip: skipWithoutBrowser }, async () => {
  const sc = new Scenario(browser, 'staff-branding', gatehouse.base);
  const admin = await (await sc.context()).newPage();
  await firstSignIn(sc, admin, `${gatehouse.base}/login`, ADMIN.email, ADMIN.password);
  await admin.waitForURL(/\/account$/);

  await admin.goto(`${gatehouse.base}/admin/branding`);
  await sc.snap(admin, 'admin-branding');
  await admin.getByLabel('Organisation name').fill(ORG);
  await admin.getByRole('button', { name: 'Save name' }).click();
  await admin.getByRole('status').waitFor();
  await admin.getByLabel('Image file').setInputFiles({ name: 'northwind.png', mimeType: 'image/png', buffer: logoPng(160, 48, [31, 78, 121]) });
  await admin.getByRole('button', { name: 'Upload logo' }).click();
  await admin.getByRole('img', { name: `${ORG} logo` }).waitFor();
  await sc.snap(admin, 'admin-branding-saved');
  assert.match(await admin.locator('header .brand').innerText(), new RegExp(`${ORG} admin`));

  // A colleague's sign-in page: the name and the logo on the card.
  const visitor = await (await sc.context()).newPage();
  await visitor.goto(`${gatehouse.base}/login`);
  assert.equal(await visitor.title(), `Sign in · ${ORG}`);
  const logo = visitor.getByRole('img', { name: `${ORG} logo` });
  await logo.waitFor();
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth === 160), 'the logo loads');
  await sc.snap(visitor, 'login');

  // A client's portal knows nothing of it.
  await visitor.goto(`${gatehouse.base}/p/acme/login`);
  await sc.snap(visitor, 'portal-login');
  const portal = await visitor.content();
  assert.ok(!portal.includes(ORG), 'no staff name on the portal');
  assert.equal(await visitor.locator('img.card-logo').count(), 0);
});
