// A node moved from Specter: the page marks the tokens `tokenlife import-specter` brought
// ("from Specter"), and those tokens still work for the scripts that hold them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { artifact, launchBrowser, startServer, whoami } from './harness.mjs';

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), '../vectors');
const USERS = join(VECTORS, 'specter-users.json');
const WALLET = '5b9e1a52-1111-4c3a-9f00-0000000000a1';

let server;
let browser;

before(async () => {
  server = await startServer();
  server.cli(['import-specter', USERS], '', { SPECTER_SECRET_KEY: 'specter secret key' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('imported tokens are listed "from Specter" and still verify', async () => {
  const created = await fetch(`${server.origin}/api/v1alpha/token/`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from('specter:specter-password-1').toString('base64')}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ jwt_token_description: 'made here', jwt_token_life: '1h' }),
  }).then((response) => response.json());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  await page.fill('#username', 'specter');
  await page.fill('#password', 'specter-password-1');
  await page.press('#password', 'Enter');
  await page.waitForSelector('#signed-in:not([hidden])');
  const wallet = page.locator(`#token-rows tr[data-id="${WALLET}"] .description`);
  await wallet.waitFor({ timeout: 10_000 });
  assert.equal((await wallet.locator('.origin').textContent()).trim(), 'from Specter');
  assert.match(await wallet.textContent(), /^wallet script/);
  // A token made here is not marked.
  const ours = page.locator(`#token-rows tr[data-id="${created.jwt_token_id}"] .description`);
  assert.equal((await ours.textContent()).trim(), 'made here');
  assert.equal(await ours.locator('.origin').count(), 0);
  await page.screenshot({ path: artifact('specter-list.png'), fullPage: true });
  await context.close();

  const users = JSON.parse(readFileSync(USERS, 'utf8'));
  const token = users[0].jwt_tokens[WALLET].jwt_token;
  const answer = await whoami(server.origin, token);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.username, 'specter');
});
