// Running workerd (the npm package `workerd`) for the edge tests: a config written into a
// folder, the server started on a free loopback port and waited for, and stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

const workerdBin = join(dirname(createRequire(import.meta.url).resolve('workerd/package.json')), 'bin/workerd');

/** A loopback port that was free a moment ago. */
export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Escapes a text for a Cap'n Proto string literal. */
export const capnpText = (text) => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"');

/**
 * Starts workerd on the config `configFor(port)` writes into `dir` and waits until
 * `readyPath` answers; sets `state.base` (its URL), `state.child` and appends its output to
 * `state.log`.
 */
export async function serve(dir, configFor, state, readyPath = '/ready') {
  // A port can be taken between probing and binding; try a few.
  for (let attempt = 0; attempt < 5 && !state.base; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'config.capnp'), configFor(port));
    const child = spawn(workerdBin, ['serve', join(dir, 'config.capnp'), '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    child.stdout.on('data', (chunk) => { state.log += chunk; });
    child.stderr.on('data', (chunk) => { state.log += chunk; });
    const exited = new Promise((done) => child.once('exit', () => done(false)));
    const deadline = Date.now() + 30_000;
    const ready = (async () => {
      while (Date.now() < deadline && child.exitCode === null) {
        try {
          await fetch(`http://127.0.0.1:${port}${readyPath}`);
          return true;
        } catch {
          await new Promise((done) => setTimeout(done, 100));
        }
      }
      return false;
    })();
    if (await Promise.race([ready, exited])) state.base = `http://127.0.0.1:${port}`;
    else child.kill('SIGKILL');
  }
  assert.ok(state.base, `workerd did not serve:\n${state.log}`);
}

/** Stops workerd and removes its folder. */
export async function stop(state, dir) {
  const { child } = state;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}
