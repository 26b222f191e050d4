// A Cloudflare-style worker that verifies the request's Bearer token with the package:
// 200 with the claims, or 401 with the error code. `tokenlife.js` and `tokenlife_bg.wasm`
// are modules of the worker (see the config the test writes); workerd hands the .wasm over
// as a compiled WebAssembly.Module, since it refuses to compile wasm from bytes.
import { initSync, Verifier, inspect } from './tokenlife.js';
import module from './tokenlife_bg.wasm';

initSync({ module });

let verifiers;

export default {
  async fetch(request, env) {
    verifiers ??= {
      '/hs256': Verifier.fromSecret(env.SECRET),
      '/jwks': Verifier.fromJwks(env.JWKS),
    };
    const url = new URL(request.url);
    const auth = request.headers.get('Authorization') ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (url.pathname === '/inspect') {
      return Response.json(inspect(token, { now: Number(url.searchParams.get('now')) }));
    }
    const verifier = verifiers[url.pathname];
    if (!verifier) return Response.json({ error: 'not_found' }, { status: 404 });
    const now = url.searchParams.has('now') ? Number(url.searchParams.get('now')) : undefined;
    const revoked = url.searchParams.getAll('revoked');
    try {
      const claims = verifier.verify(token, { now, issuer: 'tokenlife', revoked });
      return Response.json({ claims });
    } catch (err) {
      return Response.json(
        { error: err.code ?? 'unexpected', message: err.message, isError: err instanceof Error },
        { status: 401, headers: { 'WWW-Authenticate': `Bearer error="invalid_token"` } },
      );
    }
  },
};
