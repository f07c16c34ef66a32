#!/usr/bin/env node
// End-to-end runner: for each group, starts the real all-in-one server on a free port with a
// fresh data directory (so every group's first account is that server's first, its admin),
// waits until it is ready, runs the group's file with node:test (it drives its own headless
// Chromium), and stops the server; then prints the summary.
//
//   node e2e/run.mjs              every group
//   node e2e/run.mjs auth         only sign up / sign in / session / people (E2E_GROUPS=auth works too)
//   groups: a group of three, then four; messages: reply, edit, delete, react, search, block;
//   formatting: formatted messages, their previews, an edit, a code block on a phone;
//   attachments: attach (button, drop, paste), progress, too large, thumbnails, lightbox, download
//   push: the manifest, the service worker showing a push, the notifications switch
//
// Env: GOCHAT_BIN (default ../target/debug/gochat), CHROMIUM_PATH (default /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { artifactsDir, clientDir } from './lib.mjs';

const GROUPS = {
  auth: 'auth.test.mjs',
  chat: 'chat.test.mjs',
  groups: 'groups.test.mjs',
  messages: 'messages.test.mjs',
  formatting: 'formatting.test.mjs',
  admin: 'admin.test.mjs',
  attachments: 'attachments.test.mjs',
  push: 'push.test.mjs',
};

const requested = process.argv.slice(2).length ? process.argv.slice(2) : (process.env.E2E_GROUPS?.split(',').filter(Boolean) ?? []);
const groups = requested.length ? requested : Object.keys(GROUPS);
for (const g of groups) {
  if (!GROUPS[g]) {
    console.error(`unknown group "${g}"; groups: ${Object.keys(GROUPS).join(', ')}`);
    process.exit(2);
  }
}

const bin = path.resolve(clientDir, process.env.GOCHAT_BIN ?? '../target/debug/gochat');
const distDir = path.join(clientDir, 'dist');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls GET /readyz until 200: at most `attempts` tries, backing off from 50 ms to 1 s. */
async function waitReady(url, server, attempts = 60) {
  let delay = 50;
  let last = 'no answer';
  for (let i = 0; i < attempts; i++) {
    if (server.exitCode !== null) throw new Error(`server exited early with code ${server.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(1000, delay * 2);
  }
  throw new Error(`server not ready: ${last}`);
}

async function main() {
  if (!existsSync(bin)) {
    console.error(`GoChat binary not found at ${bin} (set GOCHAT_BIN, or build it with cargo build)`);
    return 2;
  }
  if (!existsSync(path.join(distDir, 'index.html'))) {
    console.log('client/dist is missing: building the client');
    const b = spawnSync('npm', ['run', 'build'], { cwd: clientDir, stdio: 'inherit' });
    if (b.status !== 0) return 2;
  }
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
    console.error('Chromium not found at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH)');
    return 2;
  }

  await mkdir(artifactsDir, { recursive: true });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const group of groups) await runGroup(group, totals);
  const { passed, failed, skipped } = totals;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

/** One group against a server of its own; its log is e2e-artifacts/server-<group>.log. */
async function runGroup(group, totals) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gochat-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logName = `server-${group}.log`;
  const log = createWriteStream(path.join(artifactsDir, logName));
  const server = spawn(bin, ['serve'], {
    cwd: dataDir, // no config/gochat.toml here: defaults + env only
    env: {
      ...process.env,
      GOCHAT_LISTEN: `127.0.0.1:${port}`,
      GOCHAT_DATA_DIR: dataDir,
      GOCHAT_CLIENT_DIR: distDir,
      // The push test's browser subscribes at a discard port: nothing there, nothing elsewhere.
      GOCHAT_PUSH_INSECURE_HOSTS: '127.0.0.1:9',
      // Tests sign up more people than a minute's default allowance from one address.
      GOCHAT_SIGNUP_PER_MINUTE: '1000',
      GOCHAT_LOG: process.env.GOCHAT_LOG ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  const stop = () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
  };
  process.on('exit', stop);

  try {
    await waitReady(url, server);
    console.log(`GoChat under test (${group}): ${url} (data ${dataDir}, log e2e-artifacts/${logName})`);
    process.env.GOCHAT_E2E_URL = url;

    const stream = run({ files: [path.join(clientDir, 'e2e', GROUPS[group])], concurrency: 1, timeout: 180_000 });
    stream.on('test:pass', (e) => {
      if (e.details?.type === 'suite') return;
      if (e.skip || e.todo) totals.skipped++;
      else totals.passed++;
    });
    stream.on('test:fail', (e) => {
      if (e.details?.type !== 'suite') totals.failed++;
    });
    await new Promise((resolve, reject) => {
      const out = stream.compose(spec);
      out.pipe(process.stdout, { end: false });
      out.on('end', resolve);
      out.on('error', reject);
    });
  } catch (e) {
    console.error(String(e?.stack ?? e));
    await new Promise((r) => log.write('', r));
    const tail = (await readFile(path.join(artifactsDir, logName), 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
    if (tail.trim()) console.error(`--- last lines of e2e-artifacts/${logName} ---\n${tail}`);
    totals.failed++;
  } finally {
    stop();
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', r)));
    process.off('exit', stop);
    await rm(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
