// The deployment files of deploy/: the systemd unit (as the README shows it, as
// systemd-analyze judges it), the Dockerfile (as hadolint judges it), and the container's
// run emulated without Docker: the binary alone in a new root with the image's data folder,
// user, environment and HEALTHCHECK command, taken from the Dockerfile itself.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const BIN = resolve(process.env.TOKENLIFE_BIN ?? join(ROOT, 'target/debug/tokenlife'));
const UNIT = readFileSync(join(ROOT, 'deploy/tokenlife.service'), 'utf8');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
const HADOLINT = join(here, '.venv/bin/hadolint');

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** The fenced blocks of the README's "Deployment" section: `{ lang, text }`. */
function deploymentBlocks() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Deployment\n');
  assert.ok(start >= 0, 'README.md has no "## Deployment" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, text]) => ({ lang, text }));
}

test('the README shows the unit file as it is', () => {
  const shown = deploymentBlocks().filter(({ lang }) => lang === 'ini');
  assert.equal(shown.length, 1, 'one ini block, the unit');
  assert.equal(shown[0].text, UNIT);
});

test('the README runs the commands of the Dockerfile and of the unit', () => {
  const shell = deploymentBlocks().filter(({ lang }) => lang === 'sh').map(({ text }) => text).join('\n');
  for (const line of DOCKERFILE.split('\n').filter((l) => /^#\s+docker /.test(l))) {
    assert.ok(shell.includes(line.replace(/^#\s+/, '').replace(/\s+#.*$/, '')), `README lacks: ${line}`);
  }
  assert.match(shell, /build-static\.sh/);
  assert.match(shell, /deploy\/tokenlife\.service \/etc\/systemd\/system\//);
});

test('the unit carries the usual hardening', () => {
  for (const line of [
    'DynamicUser=yes', 'StateDirectory=tokenlife', 'NoNewPrivileges=yes', 'ProtectSystem=strict',
    'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=', 'SystemCallFilter=@system-service',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX', 'ExecStart=/usr/local/bin/tokenlife serve',
    'Environment=TOKENLIFE_DATA=%S/tokenlife',
  ]) {
    assert.ok(UNIT.split('\n').includes(line), `missing ${line}`);
  }
});

test('systemd-analyze verifies the unit, exposure "OK"', {
  skip: !has('systemd-analyze') && 'systemd-analyze is not installed (Debian package systemd)',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenlife-unit-'));
  try {
    // verify checks that ExecStart's binary exists: the one under test stands in.
    const unit = join(dir, 'tokenlife.service');
    writeFileSync(unit, UNIT.replace('/usr/local/bin/tokenlife', BIN));
    const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'no warning');
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8' });
    const level = /Overall exposure level for tokenlife\.service: ([\d.]+) (\w+)/.exec(security.stdout);
    assert.ok(level, security.stdout + security.stderr);
    assert.ok(Number(level[1]) <= 2, `exposure ${level[1]} ${level[2]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hadolint accepts the Dockerfile', {
  skip: !existsSync(HADOLINT) && 'hadolint is not installed (scripts/setup.sh test puts it in tests/deploy/.venv)',
}, () => {
  const lint = spawnSync(HADOLINT, [join(ROOT, 'deploy/Dockerfile')], { encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
});

/** The final stage's `ENV` pairs, `USER` and `HEALTHCHECK ... CMD [...]` of the Dockerfile. */
function imageSettings() {
  const final = DOCKERFILE.slice(DOCKERFILE.lastIndexOf('\nFROM '));
  const joined = final.replace(/\\\n\s*/g, ' ');
  assert.match(joined, /^FROM scratch$/m);
  const env = {};
  for (const [, pairs] of joined.matchAll(/^ENV (.*)$/gm)) {
    for (const [, name, value] of pairs.matchAll(/(\w+)=(\S+)/g)) env[name] = value;
  }
  const user = /^USER (\d+):(\d+)$/m.exec(joined);
  const health = /^HEALTHCHECK .*CMD (\[.*\])$/m.exec(joined);
  const volume = /^VOLUME \["([^"]+)"\]$/m.exec(joined);
  assert.ok(user && health && volume, 'USER, HEALTHCHECK and VOLUME in the final stage');
  return { env, uid: Number(user[1]), gid: Number(user[2]), health: JSON.parse(health[1]), volume: volume[1] };
}

test('the image as the Dockerfile makes it: the binary alone, its user, its health check', {
  skip: process.getuid() !== 0 && 'chroot needs root',
}, async () => {
  const image = imageSettings();
  assert.notEqual(image.uid, 0, 'not root');
  assert.equal(image.env.TOKENLIFE_DATA, image.volume);
  const root = mkdtempSync(join(tmpdir(), 'tokenlife-image-'));
  let child;
  try {
    // The image's files: /tokenlife, the empty volume owned by the user, and (for a
    // build that is not static) the libraries the binary loads.
    chmodSync(root, 0o755);
    copyFileSync(BIN, join(root, 'tokenlife'));
    const ldd = spawnSync('ldd', [BIN], { encoding: 'utf8' });
    for (const lib of ldd.stdout.match(/\/\S+/g) ?? []) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    mkdirSync(join(root, image.volume), { mode: 0o700 });
    chownSync(join(root, image.volume), image.uid, image.gid);
    // The image listens on every address at a fixed port; here loopback, a free port.
    const env = { ...image.env, TOKENLIFE_LISTEN: '127.0.0.1:0', RUST_LOG: 'warn' };
    const run = (args) => ['--userspec', `${image.uid}:${image.gid}`, root, ...args];
    child = spawn('chroot', run(['/tokenlife', 'serve']), { env: { ...env, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (chunk) => { output += chunk; });
    const addr = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no start in 30 s: ${output}`)), 30_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /listening on http:\/\/(\S+)/.exec(output);
        if (match) { clearTimeout(timer); done(match[1]); }
      });
      child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`exited ${code}: ${output}`)); });
    });
    assert.match(output, /admin password: /);
    // The HEALTHCHECK command, with the image's TOKENLIFE_LISTEN pointing at this port.
    const check = spawnSync('chroot', run(image.health), {
      env: { ...env, TOKENLIFE_LISTEN: addr, PATH: process.env.PATH }, encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /liveness: 200/);
    const page = await fetch(`http://${addr}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/);
    const wasm = await fetch(`http://${addr}/pkg/tokenlife_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    // The data went to the volume, owned by the user, nowhere else.
    const users = join(root, image.volume, 'users.json');
    assert.ok(existsSync(users), 'users.json in the volume');
    const owner = spawnSync('stat', ['-c', '%u', users], { encoding: 'utf8' }).stdout.trim();
    assert.equal(Number(owner), image.uid);
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    child = undefined;
    // Nobody listens: the check fails, in one line.
    const down = spawnSync('chroot', run(image.health), { env: { ...env, TOKENLIFE_LISTEN: addr, PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(down.status, 1);
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr);
  } finally {
    child?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});
