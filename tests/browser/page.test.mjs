// The web page (www/) in headless Chromium against the real server: one user's whole
// journey through sign-in, create, the countdown, delete and reading a token, plus the
// error messages, the phone layout and the rule that no request leaves the origin.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { artifact, launchBrowser, startServer, whoami } from './harness.mjs';

const ALICE = { name: 'alice', password: 'correct horse battery staple' };
const BOB = { name: 'bob', password: 'tr0ub4dor&3' };
/** Only ever given wrong passwords, until the server throttles it. */
const CAROL = { name: 'carol', password: 'never typed' };
/** Watches last use and "expires soon" on a list of their own. */
const ERIN = { name: 'erin', password: 'last used by erin' };
/** Has their password changed from the command line while signed in. */
const DAVE = { name: 'dave', password: 'before the change' };
const JWT_IO_EXAMPLE = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };

let server;
let browser;
/** Every request any page made, and everything that would show a problem. */
const requests = [];
const jsDialogs = [];
const pageErrors = [];
/** Content Security Policy violations, from the page's events and the console. */
const cspViolations = [];

/**
 * Records every CSP violation of the context's pages: the `securitypolicyviolation` event
 * (reported through a binding installed before any page script runs) and the console's
 * "Content Security Policy" messages (for what has no event, such as a refused frame).
 */
async function watchPolicy(context) {
  await context.exposeBinding('__tokenlifeCspViolation', (_source, violation) => {
    cspViolations.push(violation);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__tokenlifeCspViolation(
        `${event.effectiveDirective} refused ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  context.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
}

// The page must work under its policy: a violation fails the test that caused it.
afterEach(() => {
  const seen = cspViolations.splice(0);
  assert.deepEqual(seen, [], 'Content Security Policy violations');
});

before(async () => {
  server = await startServer();
  server.addUser(ALICE.name, ALICE.password);
  server.addUser(BOB.name, BOB.password);
  server.addUser(CAROL.name, CAROL.password);
  server.addUser(DAVE.name, DAVE.password);
  server.addUser(ERIN.name, ERIN.password);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh tab in its own context, recording requests, JS dialogs and errors. */
async function openPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: 'en-GB' });
  await watchPolicy(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('dialog', (dialog) => {
    jsDialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${server.origin}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 }).catch(async () => {
    // Say why: most often the package in wasm/pkg/ is missing or does not instantiate.
    const banner = await page.textContent('#pkg-error');
    throw new Error(`the page did not get ready: ${banner || pageErrors.join('; ') || 'no message'}`);
  });
  return page;
}

async function signIn(page, user) {
  await page.fill('#username', user.name);
  await page.fill('#password', user.password);
  await page.press('#password', 'Enter');
  await page.waitForSelector('#signed-in:not([hidden])');
}

async function text(page, selector) {
  return (await page.textContent(selector))?.trim();
}

/** Waits until the element's text matches, then returns it. */
async function waitForText(page, selector, pattern, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await page.locator(selector).textContent({ timeout }).then((t) => t.trim());
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`${selector} still reads ${JSON.stringify(last)}, not ${pattern}`);
    }
    await page.waitForTimeout(100);
  }
}

function row(description) {
  return `#token-rows tr:has(.description:text-is("${description}"))`;
}

/** Creates a token through the form and returns the string the page shows once. */
async function createToken(page, description, life, { preset = false } = {}) {
  await page.fill('#description', description);
  if (preset) await page.click(`.presets .chip[data-life="${life}"]`);
  else await page.fill('#life', life);
  const created = page.waitForResponse((r) => r.request().method() === 'POST');
  await page.click('#create-button');
  assert.equal((await created).status(), 201);
  await page.waitForSelector('#new-token:not([hidden])');
  await page.waitForSelector(row(description));
  return page.inputValue('#new-token-value');
}

describe('the token page', () => {
  let page;
  /** Token strings as the page showed them once, by description. */
  const shown = {};

  before(async () => {
    page = await openPage();
  });

  test('loads the package and offers to sign in', async () => {
    assert.equal(await page.title(), 'tokenlife');
    assert.ok(await page.isVisible('#sign-in-form'));
    assert.ok(await page.isHidden('#who'), 'no "signed in as" before signing in');
    assert.ok(await page.isHidden('#signed-in'));
    await page.screenshot({ path: artifact('sign-in.png'), fullPage: true });
  });

  test('a wrong password gets a plain message and no native dialog', async () => {
    await page.fill('#username', BOB.name);
    await page.fill('#password', 'not the password');
    // Were the request to let the browser handle the Basic challenge (as fetch does with
    // its default credentials mode), headless Chromium would hold the 401 for a native
    // sign-in dialog it cannot show, and no response would ever reach the page.
    const answer = page.waitForResponse((r) => r.url().includes('/api/v1alpha/token'), { timeout: 5_000 })
      .catch(() => assert.fail('the 401 never reached the page: the browser kept it for its sign-in dialog'));
    await page.press('#password', 'Enter');
    const response = await answer;
    assert.equal(response.status(), 401);
    assert.match(response.headers()['www-authenticate'] ?? '', /^Basic/i);
    assert.equal(await waitForText(page, '#sign-in-error', /./), 'Wrong username or password.');
    assert.ok(await page.isVisible('#sign-in-form'));
    assert.deepEqual(jsDialogs, []);
    await page.screenshot({ path: artifact('sign-in-wrong-password.png'), fullPage: true });
  });

  test('repeated wrong passwords are throttled, with the wait shown', async () => {
    // The server allows a few failures, then locks the name for a doubling time.
    let throttled = null;
    for (let attempt = 0; attempt < 10 && !throttled; attempt += 1) {
      await page.waitForSelector('#sign-in-button:not([disabled])');
      await page.fill('#username', CAROL.name);
      await page.fill('#password', `wrong ${attempt}`);
      const answer = page.waitForResponse((r) => r.url().includes('/api/v1alpha/token'));
      await page.click('#sign-in-button');
      const response = await answer;
      if (response.status() === 429) throttled = response;
      else assert.equal(response.status(), 401);
    }
    assert.ok(throttled, 'the server answered 429 within 10 wrong passwords');
    const wait = Number(throttled.headers()['retry-after']);
    assert.ok(wait >= 1, `Retry-After is ${wait}`);
    const message = await waitForText(page, '#sign-in-error', /./);
    assert.equal(message, (await throttled.json()).message);
    assert.match(message, /try again in \d+ seconds?/i);
    // The button waits too, counting down, then comes back.
    assert.ok(await page.isDisabled('#sign-in-button'));
    assert.match(await text(page, '#sign-in-button'), /^Try again in \d+s$/);
    await page.screenshot({ path: artifact('sign-in-throttled.png'), fullPage: true });
    await page.waitForSelector('#sign-in-button:not([disabled])', { timeout: (wait + 3) * 1000 });
    assert.equal(await text(page, '#sign-in-button'), 'Sign in');
    assert.deepEqual(jsDialogs, []);
  });

  test('signs in with the keyboard and keeps the password out of storage', async () => {
    await page.fill('#password', '');
    await page.focus('#username');
    await page.fill('#username', ALICE.name);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    await page.keyboard.type(ALICE.password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signed-in:not([hidden])');
    assert.equal(await text(page, '#who-name'), ALICE.name);
    assert.ok(await page.isVisible('#empty'), 'a new user has no tokens');
    assert.equal(await text(page, '#sign-in-error'), '');
    const stored = await page.evaluate(() => ({
      cookie: document.cookie,
      local: localStorage.length,
      session: sessionStorage.length,
      passwordField: document.getElementById('password').value,
    }));
    assert.deepEqual(stored, { cookie: '', local: 0, session: 0, passwordField: '' });
    const cookies = await page.context().cookies();
    assert.deepEqual(cookies, []);
  });

  test('the life is read as it is typed and a bad one is refused before sending', async () => {
    await page.fill('#life', '6 minutes');
    assert.match(await waitForText(page, '#life-feedback', /^= /), /^= 6m, expires (\w{3} \d+ \w{3}, )?\d{2}:\d{2}$/);
    assert.equal(await page.getAttribute('#life', 'aria-invalid'), null);

    await page.fill('#life', '6 fortnights');
    const message = await waitForText(page, '#life-feedback', /unknown unit/i);
    assert.match(message, /fortnights/);
    assert.equal(await page.getAttribute('#life', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#life-feedback', 'aria-live'), 'polite');

    const posts = requests.filter((url) => url.includes('/token')).length;
    await page.fill('#description', 'never sent');
    await page.click('#create-button');
    await page.waitForTimeout(300);
    assert.equal(requests.filter((url) => url.includes('/token')).length, posts, 'nothing was sent');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'life');
    await page.screenshot({ path: artifact('create-life-error.png'), fullPage: true });

    await page.fill('#life', '1h30m');
    assert.match(await waitForText(page, '#life-feedback', /^= /), /^= 1h 30m, expires /);
  });

  test('creates a token from a preset, shows it once and copies it', async () => {
    shown['backup script'] = await createToken(page, 'backup script', '30 days', { preset: true });
    const token = shown['backup script'];
    assert.match(token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(await text(page, '#new-token-warning'), /only time it is shown/);
    // Written the package's way (SPEC 2: a month is 30 days).
    const thirtyDays = await page.evaluate(
      async (seconds) => (await import('/pkg/tokenlife.js')).formatLife(seconds),
      30 * 86400,
    );
    assert.match(thirtyDays, /^(1month|30days)$/);
    assert.equal(await text(page, `${row('backup script')} td[data-label="Life"]`), thirtyDays);
    assert.equal(await text(page, `${row('backup script')} .status-cell .status`), 'Valid');
    await page.screenshot({ path: artifact('new-token.png'), fullPage: true });

    await page.click('#copy-token');
    assert.equal(await waitForText(page, '#copy-status', /./), 'Copied to the clipboard.');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);

    // The token works, and is the user's.
    const me = await whoami(server.origin, token);
    assert.equal(me.status, 200);
    assert.equal(me.body.username, ALICE.name);
    assert.equal(me.body.jwt_token_description, 'backup script');

    // Once dismissed it is gone from the page.
    await page.click('#dismiss-token');
    assert.ok(await page.isHidden('#new-token'));
    const inPage = await page.evaluate(
      (t) => document.documentElement.outerHTML.includes(t)
        || [...document.querySelectorAll('input, textarea')].some((el) => el.value.includes(t)),
      token,
    );
    assert.equal(inPage, false);
  });

  test('creates a token from free text', async () => {
    shown['ci deploy'] = await createToken(page, 'ci deploy', '1 hour 30 minutes');
    assert.equal(await text(page, `${row('ci deploy')} td[data-label="Life"]`), '1h 30m');
    assert.equal(await text(page, '#new-token-description'), 'ci deploy');
    // The form is ready for the next one.
    assert.equal(await page.inputValue('#description'), '');
    assert.equal(await page.inputValue('#life'), '');
  });

  test('server errors are shown in its own words', async () => {
    await page.fill('#description', 'ci deploy');
    await page.fill('#life', '1 day');
    await page.click('#create-button');
    assert.equal(
      await waitForText(page, '#create-error', /./),
      'Token description already exists or is blank.',
    );

    // The package reads "2 years" fine; the server's maximum is what refuses it.
    await page.fill('#description', 'too long');
    await page.fill('#life', '2 years');
    assert.match(await waitForText(page, '#life-feedback', /^= /), /^= 2years/);
    await page.click('#create-button');
    assert.match(await waitForText(page, '#create-error', /maximum/), /longer than the maximum of 1year/);
    await page.screenshot({ path: artifact('create-server-error.png'), fullPage: true });
    await page.fill('#description', '');
    await page.fill('#life', '');
  });

  test('remaining life counts down and a 2 seconds token turns Expired', async () => {
    const remaining = `${row('ci deploy')} td.remaining`;
    const first = await text(page, remaining);
    assert.match(first, /^1h 29m \d+s$|^1h 30m$/);
    const later = await waitForText(page, remaining, new RegExp(`^(?!${first}$)`), 3_000);
    assert.notEqual(later, first);

    shown.short = await createToken(page, 'short', '2 seconds');
    await page.click('#dismiss-token');
    await waitForText(page, `${row('short')} .status-cell .status`, /^Expired$/, 6_000);
    assert.equal(await text(page, `${row('short')} td.remaining`), '0s');
    assert.equal((await whoami(server.origin, shown.short)).status, 401);
    assert.equal(await text(page, `${row('backup script')} .status-cell .status`), 'Valid');
    await page.screenshot({ path: artifact('tokens.png'), fullPage: true });

    // The picture for the README: the list, and a life being read as it is typed.
    await page.fill('#description', 'nightly backup');
    await page.fill('#life', '6 minutes');
    await waitForText(page, '#life-feedback', /^= 6m/);
    await page.screenshot({ path: artifact('overview.png') });
    await page.fill('#description', '');
    await page.fill('#life', '');
  });

  test('the list sorts by remaining life', async () => {
    const order = () => page.$$eval('#token-rows .description', (cells) => cells.map((c) => c.textContent));
    const header = '#token-table th[data-key="remaining"]';
    assert.equal(await page.getAttribute(header, 'aria-sort'), 'ascending');
    assert.deepEqual(await order(), ['short', 'ci deploy', 'backup script']);
    await page.click(`${header} button`);
    assert.equal(await page.getAttribute(header, 'aria-sort'), 'descending');
    assert.deepEqual(await order(), ['backup script', 'ci deploy', 'short']);
    await page.click(`${header} button`);
    assert.deepEqual(await order(), ['short', 'ci deploy', 'backup script']);
  });

  test('delete asks in the page, removes the row and revokes the token', async () => {
    assert.equal((await whoami(server.origin, shown['backup script'])).status, 200);
    const button = `${row('backup script')} .row-actions button`;
    assert.equal(await page.getAttribute(button, 'aria-label'), 'Delete token “backup script”');

    // Keyboard: open, then Escape leaves everything as it was.
    await page.focus(button);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm-delete[open]');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-cancel');
    assert.equal(await page.getAttribute('#confirm-delete', 'aria-labelledby'), 'confirm-title');
    assert.match(await text(page, '#confirm-title'), /Delete “backup script”\?/);
    await page.screenshot({ path: artifact('delete-dialog.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm-delete', { state: 'hidden' });
    assert.ok(await page.isVisible(row('backup script')));
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')),
      'Delete token “backup script”');

    await page.click(button);
    await page.waitForSelector('#confirm-delete[open]');
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.click('#confirm-ok');
    assert.equal((await deleted).status(), 200);
    await page.waitForSelector(row('backup script'), { state: 'detached' });
    await page.waitForSelector('#confirm-delete', { state: 'hidden' });

    const refused = await whoami(server.origin, shown['backup script']);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'token_revoked');
    // The others are untouched.
    assert.equal((await whoami(server.origin, shown['ci deploy'])).status, 200);
    assert.deepEqual(jsDialogs, []);
  });

  test('reads a pasted token in the browser only', async () => {
    const before = requests.length;
    await page.fill('#read-input', shown['ci deploy']);
    await page.waitForSelector('#read-result:not([hidden])');
    const header = JSON.parse(await text(page, '#read-header'));
    const claims = JSON.parse(await text(page, '#read-claims'));
    assert.equal(header.typ, 'JWT');
    assert.equal(header.alg, 'HS256');
    assert.equal(claims.username, ALICE.name);
    assert.equal(claims.jwt_token_description, 'ci deploy');
    assert.equal(claims.exp - claims.iat, 5400);
    assert.equal(await text(page, '#read-status'), 'Valid');
    assert.equal(await text(page, '#read-life'), '1h 30m');
    assert.equal(await text(page, '#read-owner'), ALICE.name);
    const remaining = await text(page, '#read-remaining');
    assert.match(remaining, /^1h 29m \d+s$|^1h 30m$/);
    await waitForText(page, '#read-remaining', new RegExp(`^(?!${remaining}$)`), 3_000);
    await page.screenshot({ path: artifact('read-token.png'), fullPage: true });

    await page.fill('#read-input', shown.short);
    await waitForText(page, '#read-status', /^Expired$/);
    assert.equal(await text(page, '#read-remaining'), '0s');

    // Any JWT, not only tokenlife's: the example token of jwt.io has no exp.
    await page.fill('#read-input', JWT_IO_EXAMPLE);
    assert.equal(JSON.parse(await waitForText(page, '#read-claims', /John Doe/)).name, 'John Doe');
    assert.equal(await text(page, '#read-status'), 'No expiry');
    assert.equal(await text(page, '#read-exp'), 'never (no exp claim)');

    await page.fill('#read-input', 'not a token');
    assert.match(await waitForText(page, '#read-error', /./), /not a token that can be read/);
    assert.ok(await page.isHidden('#read-result'));
    assert.equal(requests.length, before, 'reading a token sent nothing');
    await page.fill('#read-input', '');
  });

  test('sign out forgets the user', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-form');
    assert.ok(await page.isHidden('#signed-in'));
    assert.ok(await page.isHidden('#who'));
    assert.equal(await page.evaluate(() => document.activeElement.id), 'username');
    assert.equal(await page.inputValue('#password'), '');
    assert.equal(await page.$$eval('#token-rows tr', (rows) => rows.length), 0);
  });
});

describe('at phone width', () => {
  test('signs in and lists tokens without sideways scrolling', async () => {
    const page = await openPage(PHONE);
    await page.screenshot({ path: artifact('phone-sign-in.png'), fullPage: true });
    await signIn(page, ALICE);
    await page.waitForSelector(row('ci deploy'));
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
    }));
    assert.ok(widths.page <= widths.viewport, `page is ${widths.page}px wide in ${widths.viewport}px`);
    // Each token reads as a card: its description, life and remaining life stacked.
    const box = await page.locator(row('ci deploy')).boundingBox();
    assert.ok(box.width <= PHONE.width);
    await page.screenshot({ path: artifact('phone-tokens.png'), fullPage: true });
    await page.context().close();
  });
});

describe('when the password changes elsewhere', () => {
  test('the tab is signed out with a message at its next request', async () => {
    const page = await openPage();
    await signIn(page, DAVE);
    server.cli(['user', 'passwd', DAVE.name], 'after the change');
    await page.click('#refresh');
    await page.waitForSelector('#sign-in-form');
    assert.match(await waitForText(page, '#sign-in-error', /./), /no longer accepts your username and password/);
    assert.ok(await page.isHidden('#signed-in'));
    await page.context().close();
  });
});

describe('without the package', () => {
  test('the page says what is missing', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    await watchPolicy(context);
    const page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    await page.route('**/pkg/tokenlife.js', (route) => route.fulfill({ status: 404, body: '{}' }));
    await page.goto(`${server.origin}/`);
    const banner = await waitForText(page, '#pkg-error', /./);
    assert.match(banner, /package could not be loaded from \/pkg\//);
    assert.ok(await page.isDisabled('#sign-in-button'), 'nothing can be done without it');
    await context.close();
  });
});

describe('the content security policy', () => {
  test('is in force and its violations are seen', async () => {
    const page = await openPage();
    // What the policy is there to stop: inline style and script, eval, and framing.
    const outcome = await page.evaluate(async () => {
      const styled = document.createElement('p');
      styled.setAttribute('style', 'color: red');
      styled.textContent = 'styled';
      document.body.append(styled);
      const inline = document.createElement('script');
      inline.textContent = 'window.__inlineRan = true;';
      document.body.append(inline);
      // A timer given text is eval (code run by devtools may eval, but not the page).
      setTimeout('window.__timerRan = true;', 0);
      await new Promise((done) => setTimeout(done, 200));
      return {
        color: getComputedStyle(styled).color,
        inlineRan: window.__inlineRan === true,
        timerRan: window.__timerRan === true,
      };
    });
    assert.notEqual(outcome.color, 'rgb(255, 0, 0)', 'an inline style applied');
    assert.equal(outcome.inlineRan, false, 'an inline script ran');
    assert.equal(outcome.timerRan, false, 'a text timer ran');
    const seen = cspViolations.splice(0).join('\n');
    assert.match(seen, /style-src/);
    assert.match(seen, /script-src/);
    // The page cannot be framed, not even by itself.
    const frame = await page.evaluate(async () => {
      const frame = document.createElement('iframe');
      frame.src = '/';
      document.body.append(frame);
      await new Promise((done) => setTimeout(done, 1000));
      try {
        return frame.contentDocument?.title ?? 'blocked';
      } catch {
        return 'blocked';
      }
    });
    assert.notEqual(frame, 'tokenlife', 'the page loaded in a frame');
    cspViolations.splice(0);
    await page.context().close();
  });
});

describe('last use and expires soon', () => {
  let page;
  before(async () => {
    page = await openPage();
    await signIn(page, ERIN);
  });
  after(async () => {
    await page?.context().close();
  });

  /** Each row's description, whether it is marked "expires soon", and its status. */
  const rows = () =>
    page.$$eval('#token-rows tr', (trs) =>
      trs.map((tr) => [
        tr.querySelector('.description').textContent,
        !tr.querySelector('.soon').hidden,
        tr.querySelector('.status-cell .status').textContent,
      ]));

  test('tokens that expire within 7 days or a tenth of their life are marked, and sort to the top', async () => {
    await createToken(page, 'month', '30 days');
    await page.click('#dismiss-token');
    await createToken(page, 'day', '1 day');
    await page.click('#dismiss-token');
    await createToken(page, 'gone', '2 seconds');
    await page.click('#dismiss-token');
    await createToken(page, 'year', '1 year');
    await page.click('#dismiss-token');
    await waitForText(page, `${row('gone')} .status-cell .status`, /^Expired$/, 6_000);
    assert.equal(await page.isVisible(`${row('day')} .soon`), true);
    assert.equal(await text(page, `${row('day')} .soon`), 'expires soon');
    assert.equal(await page.isVisible(`${row('month')} .soon`), false);
    assert.equal(await page.isVisible(`${row('year')} .soon`), false);
    // Expired is not "soon": it is gone.
    assert.equal(await page.isVisible(`${row('gone')} .soon`), false);

    const header = '#token-table th[data-key="status"]';
    await page.click(`${header} button`);
    assert.equal(await page.getAttribute(header, 'aria-sort'), 'ascending');
    assert.deepEqual(await rows(), [
      ['day', true, 'Valid'],
      ['month', false, 'Valid'],
      ['year', false, 'Valid'],
      ['gone', false, 'Expired'],
    ]);
    await page.click(`${header} button`);
    assert.deepEqual((await rows()).map((r) => r[0]), ['gone', 'year', 'month', 'day']);
    await page.screenshot({ path: artifact('expires-soon.png'), fullPage: true });
  });

  test('the last use shows "never used", then "used ... ago" with the address', async () => {
    const used = `${row('month')} td.used`;
    assert.equal(await text(page, used), 'never used');
    assert.ok(!(await page.getAttribute(used, 'title')), 'no time or address before a use');
    // The token itself, from the server: the page showed it once, at create.
    const token = await createToken(page, 'used once', '30 days');
    await page.click('#dismiss-token');
    assert.equal(await text(page, `${row('used once')} td.used`), 'never used');
    assert.equal((await whoami(server.origin, token)).status, 200);
    // The server writes uses every 5 s: refresh until the list carries it.
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.click('#refresh');
      await page.waitForTimeout(500);
      if ((await text(page, `${row('used once')} td.used`)) !== 'never used') break;
      assert.ok(Date.now() < deadline, 'the use did not reach the list in 30 s');
    }
    assert.equal(await text(page, `${row('used once')} td.used`), 'used less than a minute ago');
    assert.match(await page.getAttribute(`${row('used once')} td.used`, 'title'), /^\d{4}-\d\d-\d\dT.* from 127\.0\.0\.1$/);
    assert.equal(await text(page, `${row('month')} td.used`), 'never used');
    // Sorted by last use, descending: the used one first.
    const header = '#token-table th[data-key="used"]';
    await page.click(`${header} button`);
    await page.click(`${header} button`);
    assert.equal(await page.getAttribute(header, 'aria-sort'), 'descending');
    assert.equal((await rows())[0][0], 'used once');
  });
});

describe('the whole run', () => {
  test('no request left the server origin and no script failed', () => {
    assert.ok(requests.length > 0);
    const foreign = requests.filter((url) => new URL(url).origin !== server.origin);
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(jsDialogs, []);
  });
});
