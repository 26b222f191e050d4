// tokenlife/fresh against the real server ($TOKENLIFE_BIN): a verifier kept fresh from the
// server's /.well-known/jwks.json and /api/v1alpha/revoked. Time is a clock the test moves,
// so "within the interval" is exact and nothing sleeps; every request goes through a fetch
// that records it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { requireFromConsumer } from '../lib/package.mjs';
import { startServer } from '../lib/server.mjs';

// By its name, through the package's exports map, as a user imports it.
const { freshVerifier, FreshError } = await import(pathToFileURL(requireFromConsumer.resolve('tokenlife/fresh')).href);

/** A clock the test moves, and a fetch that records each request and can be sent elsewhere or broken. */
function harness(start = Math.floor(Date.now() / 1000)) {
  const h = {
    now: start,
    log: [],
    redirect: undefined, // [from, to]: rewrite the origin
    broken: false,
    clock: () => h.now,
    fetch: async (url, init) => {
      let target = url;
      if (h.redirect) target = url.replace(h.redirect[0], h.redirect[1]);
      const entry = { path: new URL(url).pathname, ifNoneMatch: init?.headers?.['if-none-match'] ?? null, status: null };
      h.log.push(entry);
      if (h.broken) throw new TypeError('fetch failed: connection refused');
      const response = await fetch(target, init);
      entry.status = response.status;
      entry.etag = response.headers.get('etag');
      return response;
    },
    count: (path) => h.log.filter((entry) => entry.path.endsWith(path)).length,
  };
  return h;
}

const JWKS = '/.well-known/jwks.json';
const REVOKED = '/api/v1alpha/revoked';

async function rejectsWith(promise, code, what) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

describe('tokenlife/fresh against the server (EdDSA)', () => {
  let server;
  let other; // a second server: its key is one the first never had
  before(async () => {
    [server, other] = await Promise.all([startServer({ alg: 'EdDSA' }), startServer({ alg: 'EdDSA' })]);
  });
  after(async () => {
    await Promise.all([server?.stop(), other?.stop()]);
  });

  it('refuses a token revoked on the server once the revoked list is due, without a restart', async () => {
    const h = harness();
    const fresh = await freshVerifier({ url: server.url, issuer: 'tokenlife', revokedEvery: 30, fetch: h.fetch, clock: h.clock });
    assert.equal(h.count(JWKS), 1);
    assert.equal(h.count(REVOKED), 1);
    const { jwt_token: token, jwt_token_id: id } = await server.createToken('edge-revoke', '1 hour');
    const claims = await fresh.verify(token);
    assert.equal(claims.jwt_token_id, id);
    assert.equal(claims.username, 'admin');

    await server.deleteToken(id);
    // Within the interval the held list is used: no request, the token still passes.
    h.now += 29;
    assert.equal((await fresh.verify(token)).jwt_token_id, id);
    assert.equal(h.count(REVOKED), 1);
    // At the interval the list is fetched again (If-None-Match with the old tag, a new
    // document back) and the token is refused.
    h.now += 1;
    await rejectsWith(fresh.verify(token), 'revoked', 'after the interval');
    const last = h.log.at(-1);
    assert.deepEqual([last.path, last.status], [REVOKED, 200]);
    assert.ok(last.ifNoneMatch, 'a conditional request');
    assert.notEqual(last.etag, last.ifNoneMatch);
    assert.equal(fresh.state.revoked.count, 1);
    assert.equal(fresh.state.revoked.etag, last.etag);
    // Another token of the server still passes.
    const { jwt_token: kept } = await server.createToken('edge-kept', '1 hour');
    assert.equal((await fresh.verify(kept)).jwt_token_description, 'edge-kept');
    assert.equal(h.count(JWKS), 1, 'the keys were not due');
    fresh.free();
    await rejectsWith(fresh.verify(kept), 'stale', 'after free');
  });

  it('revalidates with If-None-Match and keeps its documents on 304', async () => {
    const h = harness();
    const fresh = await freshVerifier({ url: server.url, revokedEvery: 5, jwksEvery: 20, fetch: h.fetch, clock: h.clock });
    const { jwt_token: token } = await server.createToken('edge-304', '1 hour');
    const first = h.log.map((entry) => entry.etag);
    assert.ok(first.every((tag) => typeof tag === 'string' && tag.startsWith('"')), 'the server tags both documents');
    for (let step = 1; step <= 4; step++) {
      h.now += 5;
      await fresh.verify(token);
    }
    // Four revalidations of the list and one of the keys, each a 304 for the tag held.
    const again = h.log.slice(2);
    assert.deepEqual(again.map((entry) => [entry.path, entry.status]), [
      [REVOKED, 304], [REVOKED, 304], [REVOKED, 304], [JWKS, 304], [REVOKED, 304],
    ]);
    for (const entry of again) {
      assert.equal(entry.ifNoneMatch, entry.etag, `${entry.path}: sent the tag the server has`);
    }
    assert.equal(fresh.state.jwks.confirmedAt, h.now);
    assert.equal(fresh.state.revoked.confirmedAt, h.now);
  });

  it('fetches the keys again for an unknown kid, at most every unknownKeyEvery', async () => {
    const h = harness();
    // The verifier first sees the other server's keys, as if this server had rotated since.
    h.redirect = [server.url, other.url];
    const fresh = await freshVerifier({ url: server.url, unknownKeyEvery: 10, fetch: h.fetch, clock: h.clock });
    h.redirect = undefined;
    const { jwt_token: token, jwt_token_id: id } = await server.createToken('edge-kid', '1 hour');

    // Too soon after the first fetch: refused, nothing asked.
    await rejectsWith(fresh.verify(token), 'unknown_key', 'before unknownKeyEvery');
    assert.equal(h.count(JWKS), 1);
    // Later: the unknown kid fetches the keys (a 200: not the tag held) and passes; two
    // verifies at once share the one request.
    h.now += 10;
    const both = await Promise.all([fresh.verify(token), fresh.verify(token)]);
    assert.deepEqual(both.map((claims) => claims.jwt_token_id), [id, id]);
    assert.equal(h.count(JWKS), 2);
    assert.equal(h.log.at(-1).status, 200);
    // Now the other server's tokens are unknown; one refetch (a 304) and not another.
    const { jwt_token: foreign } = await other.createToken('edge-foreign', '1 hour');
    await rejectsWith(fresh.verify(foreign), 'unknown_key', 'a foreign kid');
    assert.equal(h.count(JWKS), 2, 'within unknownKeyEvery of the last fetch');
    h.now += 10;
    await rejectsWith(fresh.verify(foreign), 'unknown_key', 'a foreign kid later');
    assert.equal(h.count(JWKS), 3);
    assert.equal(h.log.at(-1).status, 304);
    await rejectsWith(fresh.verify(foreign), 'unknown_key', 'again at once');
    assert.equal(h.count(JWKS), 3);
  });

  it('keeps the last good documents for maxStale, then fails closed, and recovers', async () => {
    const h = harness();
    const fresh = await freshVerifier({ url: server.url, revokedEvery: 30, maxStale: 60, retryEvery: 5, fetch: h.fetch, clock: h.clock });
    const { jwt_token: token } = await server.createToken('edge-stale', '1 hour');
    h.broken = true;
    h.now += 30; // due: the fetch fails, the held list is used
    await fresh.verify(token);
    assert.equal(h.count(REVOKED), 2);
    assert.equal(fresh.state.revoked.error?.code, 'fetch_failed');
    h.now += 4; // within retryEvery of the failure: no new attempt
    await fresh.verify(token);
    assert.equal(h.count(REVOKED), 2);
    h.now += 55; // 89 s old: one more attempt, still usable
    await fresh.verify(token);
    assert.equal(h.count(REVOKED), 3);
    h.now += 1; // 90 s = revokedEvery + maxStale: closed
    await assert.rejects(fresh.verify(token), (err) => {
      assert.ok(err instanceof FreshError);
      assert.equal(err.code, 'stale');
      assert.equal(err.cause?.code, 'fetch_failed');
      return true;
    });
    h.broken = false;
    h.now += 5;
    await fresh.verify(token);
    assert.equal(fresh.state.revoked.error, null);
    assert.equal(fresh.state.revoked.confirmedAt, h.now);
  });

  it('refuses to start without the documents, with typed errors', async () => {
    const h = harness();
    h.broken = true;
    await assert.rejects(freshVerifier({ url: server.url, fetch: h.fetch }),
      (err) => err instanceof FreshError && err.code === 'fetch_failed' && /connection refused/.test(err.message));
    await assert.rejects(freshVerifier({ url: `${server.url}/nowhere/` }),
      (err) => err instanceof FreshError && err.code === 'fetch_failed' && /status 404/.test(err.message));
    const page = async (url, init) => new Response('<html></html>', { status: 200, headers: { 'content-type': 'text/html' } });
    await assert.rejects(freshVerifier({ url: server.url, fetch: page }),
      (err) => err instanceof FreshError && err.code === 'bad_document');
    const bad = async (url) => Response.json(url.endsWith('jwks.json') ? { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] } : { revoked: [] });
    await assert.rejects(freshVerifier({ url: server.url, fetch: bad }),
      (err) => err instanceof FreshError && err.code === 'bad_document' && err.cause?.code === 'unknown_key');
    for (const options of [undefined, {}, { url: 'not a url' }, { url: server.url, revokedEvery: -1 },
      { url: server.url, fetch: 'fetch' }, { url: server.url, secret: 5 }, { url: server.url, clock: 1 }]) {
      await assert.rejects(freshVerifier(options), TypeError, JSON.stringify(options));
    }
  });
});

describe('tokenlife/fresh against an HS256 server', () => {
  const secret = 'fresh-test-secret-of-enough-length-0123456789';
  let server;
  before(async () => {
    server = await startServer({ secret });
  });
  after(async () => {
    await server?.stop();
  });

  it('uses the secret, fetches only the revoked list, and honours revocations', async () => {
    const h = harness();
    const fresh = await freshVerifier({ url: `${server.url}/`, secret, revokedEvery: 10, fetch: h.fetch, clock: h.clock });
    assert.deepEqual(h.log.map((entry) => entry.path), [REVOKED]);
    assert.equal(fresh.state.jwks, null);
    const { jwt_token: token, jwt_token_id: id } = await server.createToken('edge-hs', '1 hour');
    assert.equal((await fresh.verify(token, { issuer: 'tokenlife' })).jwt_token_id, id);
    await server.deleteToken(id);
    h.now += 10;
    await rejectsWith(fresh.verify(token), 'revoked', 'after the interval');
    // An expired token is judged by the clock, which is also verify's `now`.
    h.now += 3600;
    const { jwt_token: later } = await server.createToken('edge-hs-later', '1 hour');
    await rejectsWith(fresh.verify(later), 'expired', 'an hour on');
    assert.equal((await fresh.verify(later, { now: Date.now() / 1000 })).jwt_token_description, 'edge-hs-later');
  });

  it('says how to verify an HS256 server: it publishes no keys', async () => {
    await assert.rejects(freshVerifier({ url: server.url }),
      (err) => err instanceof FreshError && err.code === 'bad_document' && /secret/.test(err.message));
  });
});
