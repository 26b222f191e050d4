// A Cloudflare-style worker that verifies Bearer tokens with tokenlife/fresh against a real
// tokenlife server (env.SERVER): 200 with the claims, or 401 with the error code. Every
// request the verifier makes goes through a fetch that records it, read back at /log.
// tokenlife.js, tokenlife_glue.js, fresh.js and tokenlife_bg.wasm are modules of the worker
// (see the config fresh-workerd.test.mjs writes).
import { initSync } from './tokenlife.js';
import { freshVerifier } from './fresh.js';
import module from './tokenlife_bg.wasm';

initSync({ module });

const log = [];
let fresh;

async function recordingFetch(url, init) {
  const entry = { path: new URL(url).pathname, ifNoneMatch: init?.headers?.['if-none-match'] ?? null, status: null };
  log.push(entry);
  const response = await fetch(url, init);
  entry.status = response.status;
  return response;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/log') return Response.json(log);
    if (url.pathname !== '/verify') return Response.json({ error: 'not_found' }, { status: 404 });
    try {
      // Built in a request (workerd allows no I/O at start-up), then kept across requests.
      fresh ??= await freshVerifier({ ...JSON.parse(env.OPTIONS), url: env.SERVER, fetch: recordingFetch });
      const auth = request.headers.get('Authorization') ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
      return Response.json({ claims: await fresh.verify(token) });
    } catch (err) {
      return Response.json(
        { error: err.code ?? 'unexpected', message: err.message, name: err.name },
        { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
      );
    }
  },
};
