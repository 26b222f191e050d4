// A Vercel-style edge function (`export const config = { runtime: 'edge' }`) on the package:
// the .wasm imported with `?module`, which Vercel's bundler hands over as a precompiled
// WebAssembly.Module, and initSync({ module }) once. Verifies Bearer tokens at /verify and
// reads them without a key at /inspect; a refusal is a 401 with the package's error code.
// Bundled and run by test/edge-runtime.test.mjs in Vercel's `edge-runtime`.
import { initSync, inspect, Verifier, TokenlifeError } from 'tokenlife';
import module from 'tokenlife/tokenlife_bg.wasm?module';

export const config = { runtime: 'edge' };

initSync({ module });
let verifier;

export default async function handler(request) {
  verifier ??= Verifier.fromSecret(process.env.SECRET_KEY);
  const url = new URL(request.url);
  const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
  const now = url.searchParams.has('now') ? Number(url.searchParams.get('now')) : undefined;
  try {
    if (url.pathname === '/inspect') return Response.json(inspect(token, { now }));
    const revoked = url.searchParams.getAll('revoked');
    const claims = verifier.verify(token, { now, issuer: 'tokenlife', revoked });
    return Response.json({ hello: claims.username, claims });
  } catch (err) {
    if (!(err instanceof TokenlifeError)) throw err;
    return Response.json({ error: err.code, message: err.message, claims: err.claims ?? null }, { status: 401 });
  }
}
