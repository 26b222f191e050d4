// Issue 16's parts of the page in headless Chromium against the real server: the
// Regenerate button of each token (the new token shown once, the old one refused at once)
// and the section only administrators see (every user's tokens, any of them revoked).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { artifact, launchBrowser, startServer, whoami } from './harness.mjs';

const ALICE = { name: 'alice', password: 'correct horse battery staple' };
const ROOT = { name: 'root', password: 'an administrator of this server' };

let server;
let browser;
const pageErrors = [];

before(async () => {
  server = await startServer();
  server.addUser(ALICE.name, ALICE.password);
  server.cli(['user', 'add', ROOT.name, '--admin'], ROOT.password);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('dialog', (dialog) => {
    pageErrors.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.goto(`${server.origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return page;
}

async function signIn(page, user) {
  await page.fill('#username', user.name);
  await page.fill('#password', user.password);
  const admin = page.waitForResponse((r) => r.url().endsWith('/api/v1alpha/admin/tokens'));
  await page.press('#password', 'Enter');
  await page.waitForSelector('#signed-in:not([hidden])');
  // The page asks the admin list whether this user is an administrator.
  return (await admin).status();
}

function row(description) {
  return `#token-rows tr:has(.description:text-is("${description}"))`;
}

async function createToken(page, description, life) {
  await page.fill('#description', description);
  await page.fill('#life', life);
  const created = page.waitForResponse((r) => r.request().method() === 'POST');
  await page.click('#create-button');
  assert.equal((await created).status(), 201);
  await page.waitForSelector('#new-token:not([hidden])');
  await page.waitForSelector(row(description));
  return page.inputValue('#new-token-value');
}

describe('regenerate and the admin section', () => {
  /** alice's current token string, as the page showed it. */
  let current;

  test('a user who is not an administrator does not see the admin section', async () => {
    const page = await openPage();
    assert.equal(await signIn(page, ALICE), 403);
    assert.ok(await page.isHidden('#admin'));
    current = await createToken(page, 'deploy', '2 hours');
    assert.equal((await whoami(server.origin, current)).status, 200);
    await page.click('#dismiss-token');
    assert.ok(await page.isHidden('#admin'), 'still hidden after a refresh of the list');
    await page.context().close();
    assert.deepEqual(pageErrors, []);
  });

  test('Regenerate asks first, then shows the new token once and the old one stops working', async () => {
    const page = await openPage();
    await signIn(page, ALICE);
    const button = `${row('deploy')} button.regenerate`;
    assert.equal(await page.getAttribute(button, 'aria-label'), 'Regenerate token “deploy”');

    // Cancel changes nothing and gives the keyboard back to the button.
    let posted = 0;
    page.on('request', (r) => { if (r.method() === 'POST') posted += 1; });
    await page.click(button);
    await page.waitForSelector('#confirm-action[open]');
    assert.equal((await page.textContent('#action-title')).trim(), 'Regenerate “deploy”?');
    await page.click('#action-cancel');
    await page.waitForSelector('#confirm-action', { state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.className), 'button quiet regenerate');
    assert.equal(posted, 0);
    assert.equal((await whoami(server.origin, current)).status, 200);

    await page.click(button);
    await page.waitForSelector('#confirm-action[open]');
    const answer = page.waitForResponse((r) => r.url().endsWith('/regenerate'));
    await page.click('#action-ok');
    assert.equal((await answer).status(), 201);
    await page.waitForSelector('#new-token:not([hidden])');
    const fresh = await page.inputValue('#new-token-value');
    assert.notEqual(fresh, current);
    assert.equal((await page.textContent('#new-token-description')).trim(), 'deploy');
    await page.screenshot({ path: artifact('regenerated.png'), fullPage: true });

    const old = await whoami(server.origin, current);
    assert.equal(old.status, 401);
    assert.equal(old.body.error, 'token_revoked');
    const now = await whoami(server.origin, fresh);
    assert.equal(now.status, 200);
    assert.equal(now.body.jwt_token_description, 'deploy');
    assert.equal(now.body.jwt_token_life, 7200);
    // One row still, for the new token.
    await page.waitForFunction(
      (id) => document.querySelector(`#token-rows tr[data-id="${id}"]`) !== null,
      now.body.jwt_token_id,
    );
    assert.equal(await page.locator('#token-rows tr').count(), 1);
    current = fresh;
    await page.context().close();
    assert.deepEqual(pageErrors, []);
  });

  test('an administrator sees every user\'s tokens and revokes any of them', async () => {
    const page = await openPage();
    assert.equal(await signIn(page, ROOT), 200);
    await page.waitForSelector('#admin:not([hidden])');
    const aliceRow = '#admin-rows tr[data-user="alice"]';
    await page.waitForSelector(aliceRow);
    assert.equal((await page.textContent(`${aliceRow} .description`)).trim(), 'deploy');
    assert.equal((await page.textContent(`${aliceRow} td.user`)).trim(), 'alice');
    assert.equal((await page.textContent(`${aliceRow} .status-cell`)).trim(), 'Valid');
    // root's own tokens are listed there too once made.
    await createToken(page, 'root job', '1 hour');
    await page.waitForSelector('#admin-rows tr[data-user="root"]');
    await page.screenshot({ path: artifact('admin-section.png'), fullPage: true });

    await page.click(`${aliceRow} button`);
    await page.waitForSelector('#confirm-action[open]');
    assert.equal((await page.textContent('#action-title')).trim(), 'Revoke “deploy” of alice?');
    const answer = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.click('#action-ok');
    const response = await answer;
    assert.equal(response.status(), 200);
    assert.match(response.url(), /\/api\/v1alpha\/admin\/token\/alice\/[0-9a-f-]{36}$/);
    await page.waitForSelector(aliceRow, { state: 'detached' });
    assert.equal(await page.locator('#admin-rows tr').count(), 1);
    const refused = await whoami(server.origin, current);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'token_revoked');
    await page.context().close();
    assert.deepEqual(pageErrors, []);
  });
});
