// The tokenlife web page: sign in, list, create and delete tokens, and read any token.
//
// Lives are parsed and formatted, and tokens decoded, by the `tokenlife` package (the same
// core the server runs), so what the page shows is what the server will do. The password
// lives only in the TokenApi object of this tab: nothing goes to cookies or web storage.

import { ApiError, TokenApi } from './api.js';

// The package's functions, bound once it has loaded (see main).
let decode, expiresSoon, formatLife, inspect, parseLife;

const $ = (id) => document.getElementById(id);

const state = {
  /** The signed-in client, or null. */
  api: null,
  /** id → { id, description, life, exp, times, usedAt, usedFrom }, from the last list (see timesToken). */
  tokens: new Map(),
  /** ids already announced as expired, so each expiry is announced once. */
  announcedExpired: new Set(),
  sort: { key: 'remaining', dir: 'ascending' },
  /** The token the delete dialog is asking about. */
  pendingDelete: null,
  /** The token shown in the "read a token" panel, inspected again each second. */
  readToken: null,
};

main();

async function main() {
  try {
    // Imported here rather than statically, so that a server without the built package
    // gets a page that says so instead of a page that does nothing.
    const tokenlife = await import('/pkg/tokenlife.js');
    await tokenlife.default();
    ({ decode, expiresSoon, formatLife, inspect, parseLife } = tokenlife);
  } catch (err) {
    const banner = $('pkg-error');
    banner.textContent = `The tokenlife package could not be loaded from /pkg/, so lives and tokens cannot be read: ${err.message}`;
    banner.hidden = false;
    return;
  }
  // Wired only now: every part of the page reads lives or tokens through the package.
  // The sign-in button stays disabled until then, so that an early Enter cannot submit
  // the form the browser's way.
  wireSignIn();
  wireCreate();
  wireNewToken();
  wireList();
  wireDeleteDialog();
  wireActionDialog();
  wireAdmin();
  $('read-input').addEventListener('input', readToken);
  $('sign-in-button').disabled = false;
  document.body.dataset.ready = 'true';
  setInterval(tick, 1000);
}

// ---------------------------------------------------------------------------------------
// Sign in and out

function wireSignIn() {
  const form = $('sign-in-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = $('username').value.trim();
    const password = $('password').value;
    const error = $('sign-in-error');
    if (!username || !password) {
      error.textContent = 'Enter your username and password.';
      (username ? $('password') : $('username')).focus();
      return;
    }
    const api = new TokenApi(username, password);
    setBusy($('sign-in-button'), true, 'Signing in…');
    error.textContent = '';
    try {
      // There is no session: a successful list is the proof that the credentials work.
      const tokens = await api.list();
      signedIn(api, tokens);
    } catch (err) {
      error.textContent = errorText(err, 'sign-in');
      if (err.status === 429 && err.retryAfter) {
        holdButton($('sign-in-button'), err.retryAfter, 'Sign in');
        return;
      }
      $('password').select();
    } finally {
      if (!$('sign-in-button').dataset.holding) setBusy($('sign-in-button'), false, 'Sign in');
    }
  });
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
}

function signedIn(api, tokens) {
  state.api = api;
  $('password').value = '';
  $('sign-in-error').textContent = '';
  $('sign-in').hidden = true;
  $('signed-in').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = api.username;
  showTokens(tokens);
  refreshAdmin();
  announce(`Signed in as ${api.username}.`);
  $('description').focus();
}

function signOut(why) {
  state.api = null;
  state.tokens.clear();
  state.announcedExpired.clear();
  forgetNewToken();
  $('create-form').reset();
  showLifeFeedback();
  for (const id of ['create-error', 'list-error']) $(id).textContent = '';
  $('token-rows').replaceChildren();
  $('admin-rows').replaceChildren();
  $('admin').hidden = true;
  $('signed-in').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  $('username').focus();
  announce(why);
}

// ---------------------------------------------------------------------------------------
// Create

function wireCreate() {
  const life = $('life');
  for (const chip of document.querySelectorAll('.presets .chip')) {
    chip.addEventListener('click', () => {
      life.value = chip.dataset.life;
      showLifeFeedback();
      life.focus();
    });
  }
  life.addEventListener('input', () => showLifeFeedback());

  $('create-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('create-error');
    error.textContent = '';
    const description = $('description').value.trim();
    if (!description) {
      error.textContent = 'Give the token a description.';
      $('description').focus();
      return;
    }
    // Nothing is sent until the package has read the life.
    const parsed = showLifeFeedback({ required: true });
    if (parsed === null) {
      life.focus();
      return;
    }
    setBusy($('create-button'), true, 'Creating…');
    try {
      const created = await state.api.create(description, life.value.trim());
      showNewToken(created);
      $('create-form').reset();
      showLifeFeedback();
      await refreshList();
    } catch (err) {
      if (!handleSessionLoss(err)) error.textContent = errorText(err, 'create');
    } finally {
      setBusy($('create-button'), false, 'Create token');
    }
  });
}

/**
 * Reads the life field with the package and says what it means, or why it cannot be read.
 * Returns the seconds, or null when the field is empty or wrong.
 */
function showLifeFeedback({ required = false } = {}) {
  const input = $('life');
  const feedback = $('life-feedback');
  const text = input.value;
  for (const chip of document.querySelectorAll('.presets .chip')) {
    chip.setAttribute('aria-pressed', String(chip.dataset.life === text.trim()));
  }
  // Only touch the live region when the words change, so that nothing is read out twice.
  const say = (message, kind) => {
    if (feedback.textContent !== message) feedback.textContent = message;
    feedback.className = kind ? `feedback ${kind}` : 'feedback';
    if (kind === 'error') input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  if (text.trim() === '' && !required) {
    say('', null);
    return null;
  }
  try {
    const seconds = parseLife(text);
    const expires = new Date(Date.now() + seconds * 1000);
    say(`= ${formatLife(seconds)}, expires ${formatWhen(expires)}`, 'ok');
    return seconds;
  } catch (err) {
    say(capitalise(err.message), 'error');
    return null;
  }
}

function showNewToken(created, done = 'created') {
  const panel = $('new-token');
  $('new-token-description').textContent = created.jwt_token_description;
  $('new-token-value').value = created.jwt_token;
  $('copy-status').textContent = '';
  panel.hidden = false;
  panel.focus();
  announce(`Token “${created.jwt_token_description}” ${done}. Copy it now: it is shown only once.`);
}

function wireNewToken() {
  $('copy-token').addEventListener('click', async () => {
    const value = $('new-token-value').value;
    const status = $('copy-status');
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      $('new-token-value').select();
      status.textContent = 'Could not copy automatically: the token is selected, copy it with Ctrl+C.';
    }
  });
  $('read-new-token').addEventListener('click', () => {
    $('read-input').value = $('new-token-value').value;
    readToken();
    $('read').scrollIntoView({ block: 'start' });
    $('read-input').focus();
  });
  $('dismiss-token').addEventListener('click', () => {
    forgetNewToken();
    $('description').focus();
  });
}

/** Drops the token string from the page for good. */
function forgetNewToken() {
  $('new-token-value').value = '';
  $('copy-status').textContent = '';
  $('new-token').hidden = true;
}

// ---------------------------------------------------------------------------------------
// List

function wireList() {
  $('refresh').addEventListener('click', async () => {
    if (await refreshList()) announce('Token list refreshed.');
  });
  for (const th of document.querySelectorAll('#token-table th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      const same = state.sort.key === key;
      state.sort = { key, dir: same && state.sort.dir === 'ascending' ? 'descending' : 'ascending' };
      renderRows();
    });
  }

}

/** Fetches the list again; false when that failed (and the failure is on the page). */
async function refreshList() {
  if (!state.api) return false;
  $('list-error').textContent = '';
  try {
    showTokens(await state.api.list());
    refreshAdmin();
    return true;
  } catch (err) {
    if (!handleSessionLoss(err)) $('list-error').textContent = errorText(err, 'list');
    return false;
  }
}

function showTokens(records) {
  const now = Date.now();
  state.tokens.clear();
  for (const [id, record] of Object.entries(records)) {
    state.tokens.set(id, {
      id,
      description: record.jwt_token_description,
      // "specter" for a token imported from Specter (`tokenlife import-specter`).
      origin: record.jwt_token_origin,
      ...listedTimes(record, now),
      // Recorded by the server at most once a minute: Unix seconds and the client address,
      // or null before the token's first use.
      usedAt: record.jwt_token_last_used ?? null,
      usedFrom: record.jwt_token_last_used_from ?? null,
    });
  }
  // Announce only the expiries that happen while the user watches.
  state.announcedExpired = new Set(
    [...state.tokens.values()].filter((t) => lifeAt(t, now).status === 'Expired').map((t) => t.id),
  );
  renderRows();
}

function renderRows() {
  const tokens = [...state.tokens.values()].sort(compareTokens);
  $('empty').hidden = tokens.length > 0;
  $('token-table').hidden = tokens.length === 0;
  for (const th of document.querySelectorAll('#token-table th[data-key]')) {
    th.setAttribute('aria-sort', th.dataset.key === state.sort.key ? state.sort.dir : 'none');
  }
  const now = Date.now();
  $('token-rows').replaceChildren(...tokens.map((token) => tokenRow(token, now)));
}

function compareTokens(a, b) {
  const { key, dir } = state.sort;
  const sign = dir === 'ascending' ? 1 : -1;
  const by = {
    description: () => a.description.localeCompare(b.description),
    life: () => a.life - b.life,
    remaining: () => a.exp - b.exp,
    // Ascending: the tokens that expire soon on top, then the valid ones, then the expired.
    status: () => standing(a) - standing(b) || a.exp - b.exp,
    // Ascending: never used first, then the longest unused.
    used: () => (a.usedAt ?? -Infinity) - (b.usedAt ?? -Infinity) || 0,
  }[key]();
  return sign * by || a.description.localeCompare(b.description);
}

/** 0 for a token that expires soon, 1 for another valid one, 2 for an expired one. */
function standing(token) {
  const now = Date.now();
  if (lifeAt(token, now).status === 'Expired') return 2;
  return soonAt(token, now) ? 0 : 1;
}

function tokenRow(token, now) {
  const row = document.createElement('tr');
  row.dataset.id = token.id;
  const remove = rowButton('Delete', 'danger-text', `Delete token “${token.description}”`,
    () => askDelete(token));
  const regenerate = rowButton('Regenerate', 'regenerate', `Regenerate token “${token.description}”`,
    (button) => askRegenerate(token, button));
  const cells = tokenCells(token.description, [remove, regenerate]);
  if (token.origin === 'specter') {
    const origin = document.createElement('span');
    origin.className = 'hint origin';
    origin.textContent = 'from Specter';
    cells.description.append(origin);
  }
  const life = cell('td', 'Life', formatLife(token.life));
  const soon = document.createElement('span');
  soon.className = 'soon';
  soon.textContent = 'expires soon';
  cells.status.append(soon);
  const used = cell('td', 'Last used', '');
  used.className = 'used';
  row.append(cells.description, life, cells.remaining, cells.status, used, cells.actions);
  updateRow(row, token, now);
  return row;
}

/**
 * The cells a row of the owner's list and a row of the administrators' list share: the
 * description (the row's header), the remaining life, the status (its badge first, filled
 * by showStatus) and the actions holding `buttons`. The caller fills and places them.
 */
function tokenCells(text, buttons) {
  const description = cell('th', 'Description', text);
  description.scope = 'row';
  description.className = 'description';
  const remaining = cell('td', 'Remaining', '');
  remaining.className = 'remaining';
  const status = cell('td', 'Status', '');
  status.className = 'status-cell';
  status.append(document.createElement('span'));
  const actions = cell('td', '', '');
  actions.className = 'row-actions';
  actions.append(...buttons);
  return { description, remaining, status, actions };
}

/** A row's quiet button; `onClick` is given the button (to give the keyboard back to). */
function rowButton(text, kind, label, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = `button quiet ${kind}`;
  button.textContent = text;
  button.setAttribute('aria-label', label);
  button.addEventListener('click', () => onClick(button));
  return button;
}

function cell(tag, label, text) {
  const element = document.createElement(tag);
  if (label) element.dataset.label = label;
  element.textContent = text;
  return element;
}

/** Updates the parts of a row that move with the clock. */
function updateRow(row, token, now) {
  const { seconds, status } = lifeAt(token, now);
  const remaining = row.querySelector('.remaining');
  const text = formatLife(seconds);
  if (remaining.textContent !== text) remaining.textContent = text;
  showStatus(row.querySelector('.status-cell span'), status);
  row.classList.toggle('expired', status === 'Expired');
  const soon = soonAt(token, now);
  row.querySelector('.soon').hidden = !soon;
  row.classList.toggle('expires-soon', soon);
  const used = row.querySelector('.used');
  const usedText = lastUseText(token.usedAt, now);
  if (used.textContent !== usedText) used.textContent = usedText;
  const where = token.usedAt === null
    ? ''
    : `${new Date(token.usedAt * 1000).toISOString()}${token.usedFrom ? ` from ${token.usedFrom}` : ''}`;
  if (used.title !== where) used.title = where;
}

/** Whether a listed token expires soon at `now` (ms): the package's rule (core's). */
function soonAt(token, now) {
  return expiresSoon(token.times, now / 1000);
}

const relativeTime = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/** "never used", "used less than a minute ago", "used 3 minutes ago", "used 2 days ago". */
function lastUseText(usedAt, now) {
  if (usedAt === null) return 'never used';
  const ago = Math.max(0, now / 1000 - usedAt);
  for (const [unit, seconds] of [['day', 86_400], ['hour', 3_600], ['minute', 60]]) {
    if (ago >= seconds) return `used ${relativeTime.format(-Math.floor(ago / seconds), unit)}`;
  }
  return 'used less than a minute ago';
}

/**
 * A listed token's remaining life and status at `now` (ms), judged by the package's
 * `inspect`, the rule the server and the read panel use; the seconds are rounded up for
 * showing, so that a token reads "1s" until it is really gone.
 */
function lifeAt(token, now) {
  const info = inspect(token.times, { now: now / 1000 });
  return { seconds: Math.ceil(info.jwt_token_life_remaining), status: info.expiry_status };
}

/**
 * A listed record's `life`, `exp` and `times` (see timesToken) at `now` (ms). The server's
 * remaining life is as of its answer: its exp on this clock, to the second (exp is whole
 * seconds; the rounding takes the answer's travel time out).
 */
function listedTimes(record, now) {
  const life = Number(record.jwt_token_life);
  const exp = Math.round(now / 1000 + Number(record.jwt_token_remaining_life));
  return { life, exp, times: timesToken(exp - life, exp) };
}

/**
 * A listed token's times as a token the package can read. The list carries no tokens
 * (the server never sends one back) and the package judges times from a token, so each
 * row keeps an unsecured JWT (RFC 7519 section 6: `alg: none`, no signature) of its own
 * `iat` and `exp`, which `inspect` reads without a signature check. It is never sent
 * anywhere and proves nothing: it only carries the two numbers to the package's rule.
 */
function timesToken(iat, exp) {
  const part = (value) =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${part({ alg: 'none' })}.${part({ iat, exp })}.`;
}

// ---------------------------------------------------------------------------------------
// Delete

function wireDeleteDialog() {
  const dialog = $('confirm-delete');
  $('confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
  $('confirm-ok').addEventListener('click', confirmDelete);
  dialog.addEventListener('close', () => {
    const token = state.pendingDelete;
    state.pendingDelete = null;
    if (token && dialog.returnValue !== 'deleted') {
      // Give the keyboard back to the button that opened the dialog.
      document.querySelector(`tr[data-id="${CSS.escape(token.id)}"] .row-actions button`)?.focus();
    }
  });
}

function askDelete(token) {
  state.pendingDelete = token;
  $('confirm-description').textContent = token.description;
  $('delete-error').textContent = '';
  setBusy($('confirm-ok'), false, 'Delete token');
  const dialog = $('confirm-delete');
  dialog.returnValue = '';
  dialog.showModal();
  $('confirm-cancel').focus();
}

async function confirmDelete() {
  const token = state.pendingDelete;
  if (!token) return;
  const dialog = $('confirm-delete');
  setBusy($('confirm-ok'), true, 'Deleting…');
  try {
    await state.api.remove(token.id);
  } catch (err) {
    setBusy($('confirm-ok'), false, 'Delete token');
    if (err.status === 404) {
      // Already gone (deleted elsewhere): the list should say so too.
      dialog.close('deleted');
      await refreshList();
      return;
    }
    if (handleSessionLoss(err)) {
      dialog.close('cancel');
      return;
    }
    $('delete-error').textContent = errorText(err, 'delete');
    return;
  }
  // Move focus to the next row's delete button (or the list heading) before the row goes.
  const rows = [...document.querySelectorAll('#token-rows tr')];
  const index = rows.findIndex((row) => row.dataset.id === token.id);
  const next = rows[index + 1] ?? rows[index - 1];
  dialog.close('deleted');
  state.tokens.delete(token.id);
  renderRows();
  const focusTarget = next && document.querySelector(`tr[data-id="${CSS.escape(next.dataset.id)}"] .row-actions button`);
  if (focusTarget) focusTarget.focus();
  else $('tokens-title').focus();
  announce(`Token “${token.description}” deleted. It no longer works.`);
}

// ---------------------------------------------------------------------------------------
// Regenerate, and the administrators' section: both confirmed in the one action dialog

/** What the action dialog will do when confirmed, and where the keyboard goes back to. */
let pendingAction = null;

function wireActionDialog() {
  const dialog = $('confirm-action');
  $('action-cancel').addEventListener('click', () => dialog.close('cancel'));
  $('action-ok').addEventListener('click', confirmAction);
  dialog.addEventListener('close', () => {
    const action = pendingAction;
    pendingAction = null;
    if (action && dialog.returnValue !== 'done' && action.opener?.isConnected) action.opener.focus();
  });
}

/** Asks before a change that cannot be undone; `run` does it and may throw an ApiError. */
function askAction(action) {
  pendingAction = action;
  $('action-title').textContent = action.title;
  $('action-text').textContent = action.text;
  $('action-error').textContent = '';
  setBusy($('action-ok'), false, action.label);
  const dialog = $('confirm-action');
  dialog.returnValue = '';
  dialog.showModal();
  $('action-cancel').focus();
}

async function confirmAction() {
  const action = pendingAction;
  if (!action) return;
  const dialog = $('confirm-action');
  setBusy($('action-ok'), true, action.busy);
  try {
    await action.run();
  } catch (err) {
    setBusy($('action-ok'), false, action.label);
    if (err instanceof ApiError && err.status === 404) {
      // Gone already (deleted or regenerated elsewhere): the lists should say so too.
      dialog.close('done');
      await refreshList();
      return;
    }
    if (handleSessionLoss(err)) {
      dialog.close('cancel');
      return;
    }
    $('action-error').textContent = errorText(err, action.label.toLowerCase());
    return;
  }
  dialog.close('done');
  await action.after?.();
}

function askRegenerate(token, opener) {
  let created = null;
  askAction({
    title: `Regenerate “${token.description}”?`,
    text: 'A new token with the same description, scopes and life replaces this one. Anything using the current token is refused from now on.',
    label: 'Regenerate token',
    busy: 'Regenerating…',
    opener,
    run: async () => { created = await state.api.regenerate(token.id); },
    after: async () => {
      showNewToken(created, 'regenerated');
      await refreshList();
    },
  });
}

function wireAdmin() {
  $('admin-refresh').addEventListener('click', async () => {
    if (await refreshAdmin()) announce('Every user\'s tokens refreshed.');
  });
}

/**
 * Shows every user's tokens when the signed-in user is an administrator (the server
 * answers the admin list), and hides the section when they are not (it answers 403).
 * False when the list could not be fetched.
 */
async function refreshAdmin() {
  const api = state.api;
  if (!api) return false;
  $('admin-error').textContent = '';
  let tokens;
  try {
    tokens = await api.adminList();
  } catch (err) {
    if (state.api !== api) return false;
    if (!handleSessionLoss(err)) $('admin-error').textContent = errorText(err, 'list');
    return false;
  }
  if (state.api !== api) return false;
  $('admin').hidden = tokens === null;
  if (tokens === null) return true;
  const now = Date.now();
  $('admin-empty').hidden = tokens.length > 0;
  $('admin-table').hidden = tokens.length === 0;
  $('admin-rows').replaceChildren(...tokens.map((record) => adminRow(record, now)));
  return true;
}

function adminRow(record, now) {
  const row = document.createElement('tr');
  row.dataset.user = record.username;
  row.dataset.id = record.jwt_token_id;
  const { seconds, status } = lifeAt(listedTimes(record, now), now);
  const user = cell('td', 'User', record.username);
  user.className = 'user';
  const revoke = rowButton('Revoke', 'danger-text',
    `Revoke token “${record.jwt_token_description}” of ${record.username}`,
    (button) => askAction({
      title: `Revoke “${record.jwt_token_description}” of ${record.username}?`,
      text: 'Anything using this token is refused from now on. This cannot be undone.',
      label: 'Revoke token',
      busy: 'Revoking…',
      opener: button,
      run: () => state.api.adminRemove(record.username, record.jwt_token_id),
      after: async () => {
        announce(`Token “${record.jwt_token_description}” of ${record.username} revoked. It no longer works.`);
        await refreshList();
        $('admin-title').focus();
      },
    }));
  const cells = tokenCells(record.jwt_token_description, [revoke]);
  cells.remaining.textContent = formatLife(seconds);
  showStatus(cells.status.firstChild, status);
  row.append(user, cells.description, cells.remaining, cells.status, cells.actions);
  return row;
}

// ---------------------------------------------------------------------------------------
// Read a token (in the browser only)

function readToken() {
  const text = $('read-input').value.trim();
  const error = $('read-error');
  const result = $('read-result');
  state.readToken = null;
  if (text === '') {
    error.textContent = '';
    result.hidden = true;
    return;
  }
  let decoded;
  try {
    decoded = decode(text);
  } catch (err) {
    error.textContent = `This is not a token that can be read: ${err.message}`;
    result.hidden = true;
    return;
  }
  error.textContent = '';
  const { header, claims } = decoded;
  $('read-header').textContent = JSON.stringify(header, null, 2);
  $('read-claims').textContent = JSON.stringify(claims, null, 2);
  $('read-owner').textContent = claims.username ?? claims.sub ?? '—';
  const exp = typeof claims.exp === 'number' ? claims.exp : null;
  $('read-life').textContent = lifeText(text);
  result.hidden = false;
  if (exp === null) {
    // A JWT without exp never runs out, so there is nothing to count down.
    $('read-exp').textContent = 'never (no exp claim)';
    $('read-remaining').textContent = '—';
    showStatus($('read-status'), 'No expiry');
    return;
  }
  $('read-exp').textContent = formatWhen(new Date(exp * 1000), { withDate: true });
  state.readToken = text;
  updateRead();
}

/** A token's life (`exp - iat`) from the package's inspect; a dash when it has none. */
function lifeText(token) {
  try {
    const { jwt_token_life: life } = inspect(token);
    return life > 0 ? formatLife(life) : '—';
  } catch {
    return '—';
  }
}

/** Remaining life and status of the token being read, from the package's inspect. */
function updateRead() {
  const token = state.readToken;
  if (!token) return;
  let remaining;
  let verdict;
  try {
    const info = inspect(token);
    remaining = formatLife(Math.ceil(info.jwt_token_life_remaining));
    verdict = info.expiry_status;
  } catch (err) {
    // Say what the package could not read instead of guessing.
    remaining = `cannot tell: ${err.message}`;
    verdict = 'Unknown';
  }
  if ($('read-remaining').textContent !== remaining) $('read-remaining').textContent = remaining;
  showStatus($('read-status'), verdict);
}

/** A status badge: Valid, Expired, or a muted word for anything else. */
function showStatus(badge, status) {
  if (badge.textContent === status) return;
  badge.textContent = status;
  badge.className = `status ${{ Valid: 'valid', Expired: 'expired' }[status] ?? 'unknown'}`;
}

// ---------------------------------------------------------------------------------------
// Clock

function tick() {
  const now = Date.now();
  for (const row of document.querySelectorAll('#token-rows tr')) {
    const token = state.tokens.get(row.dataset.id);
    if (!token) continue;
    updateRow(row, token, now);
    if (lifeAt(token, now).status === 'Expired' && !state.announcedExpired.has(token.id)) {
      state.announcedExpired.add(token.id);
      announce(`Token “${token.description}” has expired.`);
    }
  }
  // Keep "expires 14:32" true while the user thinks.
  if ($('life').value.trim() !== '' && !$('signed-in').hidden) showLifeFeedback();
  updateRead();
}

// ---------------------------------------------------------------------------------------
// Messages and small helpers

/** A sentence for a failed request, built on the API's own message. */
function errorText(err, action) {
  if (!(err instanceof ApiError)) return `Something went wrong: ${err.message}`;
  if (err.status === 401) {
    return action === 'sign-in'
      ? 'Wrong username or password.'
      : 'The server no longer accepts your username and password. Sign in again.';
  }
  if (err.status === 429) {
    const message = ensurePeriod(capitalise(err.message));
    // The server's message usually names the wait already; add it only when it does not.
    if (/try again/i.test(message)) return message;
    const wait = err.retryAfter ? `Try again in ${formatLife(err.retryAfter)}.` : 'Wait a moment, then try again.';
    return `${message} ${wait}`;
  }
  return ensurePeriod(capitalise(err.message));
}

/** A 401 after signing in means the password changed or the user was removed. */
function handleSessionLoss(err) {
  if (!(err instanceof ApiError) || err.status !== 401 || !state.api) return false;
  signOut('Signed out: the server no longer accepts your password.');
  $('sign-in-error').textContent = errorText(err, 'session');
  return true;
}

/** Disables a button while the wait from a 429 runs, showing the seconds left. */
function holdButton(button, seconds, label) {
  const until = Date.now() + seconds * 1000;
  button.dataset.holding = 'true';
  button.disabled = true;
  button.removeAttribute('aria-busy');
  const step = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      delete button.dataset.holding;
      setBusy(button, false, label);
      return;
    }
    button.textContent = `Try again in ${left}s`;
    setTimeout(step, 250);
  };
  step();
}

function setBusy(button, busy, label) {
  button.disabled = busy;
  button.textContent = label;
  if (busy) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
}

function announce(text) {
  const region = $('announce');
  // Clearing first makes screen readers repeat a message that is the same as the last.
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
});
const fullDate = new Intl.DateTimeFormat(undefined, {
  day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
});

/** Local time: "14:32" today, "Tue 3 Dec, 14:32" this year, "3 Dec 2027, 14:32" beyond. */
function formatWhen(date, { withDate = false } = {}) {
  const now = new Date();
  if (!withDate && date.toDateString() === now.toDateString()) return timeOnly.format(date);
  if (date.getFullYear() === now.getFullYear()) return dayAndTime.format(date);
  return fullDate.format(date);
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

function ensurePeriod(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
