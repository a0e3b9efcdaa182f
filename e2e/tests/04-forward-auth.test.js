// Forward-auth in a real browser: an app behind real nginx (the packaged site file)
// sends an anonymous visitor to Gatehouse's sign-in page; after signing in they are
// back at the app, whose page shows the Remote-User nginx passed on. Signing out
// closes the door again, and signing in once more returns straight to the app.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Scenario, launchBrowser, skipWithoutBrowser } from '../lib/browser.js';
import { enrolTotp, submitCode, submitPassword } from '../lib/flows.js';
import { Gatehouse, freePort } from '../lib/gatehouse.js';
import { skipWithoutNginx, startNginx, startProtectedApp } from '../lib/nginx.js';

const USER = { email: 'ops@staff.example', name: 'Olga Ops', password: 'ops passphrase for e2e' };
const skip = skipWithoutBrowser || skipWithoutNginx;

let browser;
let gatehouse;
let app;
let nginx;
let appBase;

before(async () => {
  if (skip) return;
  browser = await launchBrowser();
  const [appPort, nginxPort] = [await freePort(), await freePort()];
  gatehouse = await Gatehouse.create(`trusted_proxies = ['127.0.0.1']\n[forward_auth]\nallowed_hosts = ['127.0.0.1:${nginxPort}']\n`);
  await gatehouse.createAdmin(USER.email, USER.name, USER.password);
  await gatehouse.serve();
  app = await startProtectedApp(appPort);
  nginx = await startNginx({ port: nginxPort, gatehouse: gatehouse.port, app: appPort });
  appBase = `http://127.0.0.1:${nginxPort}`;
});

after(async () => {
  await browser?.close();
  await nginx?.close();
  await app?.close();
  await gatehouse?.stop();
});

test('forward-auth: the app behind nginx sends visitors to sign in and receives their identity', { skip }, async () => {
  const sc = new Scenario(browser, 'forward-auth', gatehouse.base);
  const context = await sc.context();
  const page = await context.newPage();
  const protectedUrl = `${appBase}/tickets/42?view=full&sort=new`;
  const { id } = await gatehouse.cliJson(['user', 'show', '--email', USER.email]);

  // Anonymous, with a forged identity header: sent to Gatehouse with the return address.
  await page.setExtraHTTPHeaders({ 'Remote-User': 'attacker' });
  await page.goto(protectedUrl);
  await page.waitForURL(new RegExp(`^${gatehouse.base}/login\\?`));
  await sc.snap(page, 'login-from-app');
  assert.equal(new URL(page.url()).searchParams.get('rd'), protectedUrl);
  assert.equal(await page.locator('input[name=next]').inputValue(), protectedUrl, 'the form keeps the return address');

  // First sign-in: password, TOTP enrolment, recovery codes, then back at the app.
  await submitPassword(page, USER.email, USER.password);
  const authenticator = await enrolTotp(sc, page);
  await page.waitForURL(protectedUrl);
  await sc.snap(page, 'app-signed-in');
  assert.equal(await page.locator('#remote-user').textContent(), id, 'the app shows the Remote-User it received');
  assert.equal(await page.locator('#path').textContent(), '/tickets/42?view=full&sort=new');
  const header = (name) => page.locator(`dd[data-header="${name}"]`).textContent();
  assert.equal(await header('remote-email'), USER.email);
  assert.equal(await header('remote-name'), USER.name);
  assert.equal(await header('remote-realm'), 'staff');
  assert.equal(await header('remote-role'), 'admin');
  assert.equal(await header('remote-auth'), 'password+totp');
  assert.ok(!(await page.content()).includes('attacker'), "the visitor's own Remote-User never reaches the app");

  // Signing out at Gatehouse closes the app too.
  await page.setExtraHTTPHeaders({});
  await page.goto(`${gatehouse.base}/account`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  await page.goto(protectedUrl);
  await page.waitForURL(new RegExp(`^${gatehouse.base}/login\\?`));

  // Signing in again (password + code) returns straight to the app.
  await submitPassword(page, USER.email, USER.password);
  await submitCode(sc, page, authenticator);
  await page.waitForURL(protectedUrl);
  await sc.snap(page, 'app-signed-in-again');
  assert.equal(await page.locator('#remote-user').textContent(), id);
  await context.close();
});
