// Starts the real tokenlife server on a temporary data folder and a free port, adds users
// with its CLI, and launches Debian's headless Chromium through playwright-core. The binary
// is copied alone into an empty folder and run from there, so the page and the package it
// serves are the ones built into it (as when it is deployed), not the repository's.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

export const BIN = resolve(process.env.TOKENLIFE_BIN ?? join(here, '../../target/debug/tokenlife'));
export const ARTIFACTS = resolve(here, '../artifacts');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** A running server: `origin`, `data`, `addUser(name, password)`, `stop()`. */
export async function startServer() {
  const data = mkdtempSync(join(tmpdir(), 'tokenlife-browser-'));
  const alone = mkdtempSync(join(tmpdir(), 'tokenlife-alone-'));
  const bin = join(alone, 'tokenlife');
  copyFileSync(BIN, bin);
  const env = { ...process.env };
  for (const name of ['TOKENLIFE_WWW', 'TOKENLIFE_PKG', 'TOKENLIFE_STORE', 'TOKENLIFE_DATA']) delete env[name];
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data], {
    cwd: alone,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => { output += chunk; });
  const origin = await new Promise((resolveOrigin, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveOrigin(new URL(match[1]).origin);
      }
    });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    origin,
    data,
    output: () => output,
    addUser(name, password) {
      this.cli(['user', 'add', name], password);
    },
    /**
     * Runs `tokenlife ARGS --data DIR` with `input` as its one line of standard input, and
     * `extra` added to the server's environment.
     */
    cli(args, input, extra = {}) {
      const result = spawnSync(bin, [...args, '--data', data], {
        cwd: alone,
        env: { ...env, ...extra },
        input: `${input}\n`,
        encoding: 'utf8',
        timeout: 20_000,
      });
      if (result.status !== 0) {
        throw new Error(`tokenlife ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(data, { recursive: true, force: true });
      rmSync(alone, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium with the flags that keep it from calling home. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Where a screenshot of this name goes (tests/artifacts/, gitignored). */
export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** Calls the API from the test itself, as a client that holds a token would. */
export async function whoami(origin, token) {
  const response = await fetch(`${origin}/api/v1alpha/whoami`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}
