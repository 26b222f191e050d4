// Runs the real tokenlife server ($TOKENLIFE_BIN) on a free loopback port with its data in
// a temporary folder, and talks to it over HTTP.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './package.mjs';

export const bin = process.env.TOKENLIFE_BIN ?? join(root, 'target/debug/tokenlife');

/**
 * Starts `tokenlife serve`; resolves once it has printed its address and the admin
 * password. `secret` becomes SECRET_KEY (HS256); `alg: 'EdDSA'` makes it sign with Ed25519.
 */
export async function startServer({ secret, alg } = {}) {
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run cargo build -p tokenlife-server (or set TOKENLIFE_BIN)`);
  }
  const data = mkdtempSync(join(tmpdir(), 'tokenlife-js-data-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', data];
  if (alg) args.push('--alg', alg);
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  delete env.SECRET_KEY;
  delete env.TOKENLIFE_DATA;
  if (secret !== undefined) env.SECRET_KEY = secret;
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(data, { recursive: true, force: true });
  };
  try {
    const { url, password } = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the server did not start in 30 s:\n${output}`)), 30_000);
      const seen = {};
      const read = (chunk) => {
        output += chunk;
        seen.url ??= output.match(/listening on (http:\/\/\S+)/)?.[1]?.replace(/\/$/, '');
        seen.password ??= output.match(/admin password: (\S+)/)?.[1];
        if (seen.url && seen.password) {
          clearTimeout(timer);
          done(seen);
        }
      };
      child.stdout.setEncoding('utf8').on('data', read);
      child.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`the server exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
    const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    return {
      url,
      stop,
      /** The data folder, for `tokenlife --data DATA ...` commands on this server's store. */
      data,
      /** Any request; JSON in and out. */
      async request(method, path, { body, headers = {} } = {}) {
        const response = await fetch(url + path, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        return { status: response.status, json, text, headers: response.headers };
      },
      /** POST /api/v1alpha/token/ as admin; the 201 body. */
      async createToken(description, life = '6 minutes') {
        const res = await this.request('POST', '/api/v1alpha/token/', {
          headers: { authorization: auth },
          body: { jwt_token_description: description, jwt_token_life: life },
        });
        if (res.status !== 201) throw new Error(`create token: ${res.status} ${res.text}`);
        return res.json;
      },
      /** DELETE /api/v1alpha/token/{id}/ as admin. */
      async deleteToken(id) {
        const res = await this.request('DELETE', `/api/v1alpha/token/${id}/`, { headers: { authorization: auth } });
        if (res.status !== 200) throw new Error(`delete token: ${res.status} ${res.text}`);
        return res.json;
      },
      async getJson(path, headers) {
        const res = await this.request('GET', path, { headers });
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
        return res.json;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
