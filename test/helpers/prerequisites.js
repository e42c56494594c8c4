// Plain ESM, run by the jest global setup: what `npm test` needs besides Node and npm is found here,
// or installed/started when this machine allows it, with one clear line when it cannot be.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, chmodSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const say = (line) => process.stderr.write(`[test setup] ${line}\n`);

export class PrerequisiteError extends Error {}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

/** Playwright's own download cache, when a browser was ever installed that way. */
function playwrightCache() {
  const root = process.env.PLAYWRIGHT_BROWSERS_PATH || path.join(os.homedir(), '.cache', 'ms-playwright');
  if (!existsSync(root)) return undefined;
  for (const dir of readdirSync(root).filter((d) => d.startsWith('chromium')).sort().reverse()) {
    for (const sub of ['chrome-linux64/chrome', 'chrome-linux/chrome', 'chrome-headless-shell-linux64/chrome-headless-shell']) {
      const file = path.join(root, dir, sub);
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}

function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new PrerequisiteError(`CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chromium or Chrome binary, or unset it`);
    return fromEnv;
  }
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => existsSync(f)) ?? onPath('chromium') ?? onPath('chromium-browser') ?? playwrightCache();
}

const isRoot = () => process.getuid?.() === 0;
const isDebian = () => existsSync('/etc/debian_version') && Boolean(onPath('apt-get'));

/** Sets CHROMIUM_PATH for the browser tests: found, or installed with apt as root on Debian. */
export function ensureChromium() {
  let found = findChromium();
  if (!found && isRoot() && isDebian()) {
    say('no Chromium found: running `apt-get update && apt-get install -y chromium` (the browser test of /docs needs it)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    found = findChromium();
  }
  if (!found) {
    throw new PrerequisiteError(
      'no Chromium for the browser tests: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary',
    );
  }
  process.env.CHROMIUM_PATH = found;
  return found;
}

/** True when a Redis answers PING at host:port (within timeoutMs). */
export function redisAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    let reply = '';
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * A Redis at 127.0.0.1:6379 for the Redis-backed rate-limit tests: the machine's when it answers,
 * else a `redis-server` started for this run (returned, to be stopped by the teardown).
 */
export async function ensureRedis() {
  const host = '127.0.0.1';
  const port = 6379;
  if (await redisAnswers(host, port)) return undefined;
  const server = onPath('redis-server');
  if (!server) {
    throw new PrerequisiteError(
      `no Redis answers at ${host}:${port} and redis-server is not installed: install it (Debian/Ubuntu: sudo apt-get install redis-server) or start a Redis there`,
    );
  }
  say(`no Redis at ${host}:${port}: starting ${server} for this run (no persistence)`);
  const child = spawn(server, ['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: false });
  child.unref();
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  // Bounded poll: redis-server has no readiness signal but its port.
  for (let i = 0; i < 100; i++) {
    const state = await Promise.race([exited.then(() => 'exited'), redisAnswers(host, port, 200).then((ok) => (ok ? 'up' : 'down'))]);
    if (state === 'up') return child;
    if (state === 'exited') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new PrerequisiteError(`redis-server did not answer at ${host}:${port}: start a Redis there yourself`);
}

/**
 * As root, the embedded PostgreSQL runs as user "postgres", which must be able to enter the
 * checkout: a clone below a closed directory (e.g. /root, mode 0700) gets traversal only (o+x, no
 * listing) on its ancestors. Only when the embedded database is used.
 */
export function ensurePostgresUserCanEnter(dir) {
  if (!isRoot()) return;
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    const mode = existsSync(d) ? statSync(d).mode : 0o777; // not made yet: made open by the server
    if ((mode & 0o001) === 0) {
      say(`chmod o+x ${d} (traversal only, no listing) so the embedded PostgreSQL's user "postgres" can reach ${dir}`);
      chmodSync(d, mode | 0o001);
    }
    if (d === path.dirname(d)) break;
  }
}
