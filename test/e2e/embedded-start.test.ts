import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';

/**
 * `npm start` with no DATABASE_URL, as a newcomer runs it: a real process on an embedded
 * PostgreSQL under its data dir, restarted with its data, stopped by a signal to the PID that
 * `npm start` gave (as a service manager or `kill <pid>` does) with nothing left running, and the
 * operator commands working while it runs.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'numina-embedded-'));
const pgPort = 55000 + Math.floor(Math.random() * 4000);
const httpPort = 45000 + Math.floor(Math.random() * 4000);

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PORT: String(httpPort), HOST: '127.0.0.1', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), LOG_LEVEL: 'info', NODE_ENV: 'development' };
  delete e.DATABASE_URL;
  delete e.TEST_DATABASE_URL;
  return e;
}

interface Server {
  child: ChildProcess;
  /** Resolves when the server logs that it listens; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** `node --import tsx server/main.ts` directly, or `npm start` (then `child` is npm itself). */
function start(how: 'node' | 'npm' = 'node'): Server {
  const child =
    how === 'npm'
      ? spawn('npm', ['start', '--silent'], { env: env(), stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: env(), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('numina listening on port')) resolve();
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before it listened`)));
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

/** Every live process whose command line mentions the data dir (the embedded postgres and its workers). */
function postgresPids(): number[] {
  return processes().filter((p) => p.cmd.includes(dataDir)).map((p) => p.pid);
}

function processes(): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (state === 'Z') continue;
      out.push({ pid: Number(entry), ppid, cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** `pid` and all its descendants, alive now. */
function tree(pid: number): number[] {
  const all = processes();
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...all.filter((p) => p.ppid === found[i]).map((p) => p.pid));
  return found.filter((p) => all.some((x) => x.pid === p));
}

const alive = (pids: number[]) => processes().filter((p) => pids.includes(p.pid)).map((p) => p.pid);

async function query(sql: string, params: unknown[] = []) {
  const password = readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim();
  const client = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'numina' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function cli(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { env: env() }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let server: Server | undefined;
afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start without DATABASE_URL', () => {
  it('starts an embedded PostgreSQL, keeps data across restarts, and stops it on SIGINT and SIGTERM', async () => {
    server = start();
    await server.ready;
    expect(postgresPids().length).toBeGreaterThan(0);
    // It listens on 127.0.0.1 with a random password kept under the data dir, not the default one.
    expect(readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim()).not.toBe('password');
    await query("INSERT INTO users (email) VALUES ('keep-me@example.com')");

    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(postgresPids()).toEqual([]);

    server = start();
    await server.ready;
    const rows = await query("SELECT email FROM users WHERE email = 'keep-me@example.com'");
    expect(rows).toEqual([{ email: 'keep-me@example.com' }]);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(postgresPids()).toEqual([]);
  }, 120_000);

  it('runs ledger:verify and admin:promote against the running server, and leaves it running', async () => {
    server = start();
    await server.ready;
    await query("INSERT INTO users (email) VALUES ('op@example.com') ON CONFLICT DO NOTHING");

    const verify = await cli('server/cli/ledger-verify.ts', []);
    expect(verify.stderr).toContain('ledger:verify: ok');
    expect(verify.code).toBe(0);

    const promote = await cli('server/cli/admin-role.ts', ['promote', 'op@example.com']);
    expect(promote.stdout.trim()).toBe('op@example.com: user -> admin');
    expect(promote.code).toBe(0);
    expect(await query("SELECT role FROM users WHERE email = 'op@example.com'")).toEqual([{ role: 'admin' }]);

    // Operator mistakes are exit 2 with one line, never 1 (which ledger:verify uses for a mismatch).
    const unknown = await cli('server/cli/admin-role.ts', ['promote', 'nobody@example.com']);
    expect(unknown).toMatchObject({ code: 2, stderr: 'no user with email nobody@example.com\n' });

    // The server and its database were not disturbed.
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(postgresPids()).toEqual([]);
  }, 120_000);

  it('says in one line (exit 2) when the embedded database cannot be opened', async () => {
    // No server runs now; a port nobody can bind makes the command's own start fail.
    const res = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'server/cli/ledger-verify.ts'], { env: { ...env(), EMBEDDED_PG_PORT: '1' } }, (err, _o, stderr) =>
        resolve({ code: Number((err as { code?: number } | null)?.code ?? 0), stderr }),
      );
    });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^ledger:verify: could not check: embedded PostgreSQL on 127\.0\.0\.1:1 did not start: /);
    expect(postgresPids()).toEqual([]);
  }, 120_000);

  it('stops node and PostgreSQL when the PID that `npm start` gave is signalled', async () => {
    server = start('npm');
    await server.ready;
    const npmPid = server.child.pid!;
    const everything = tree(npmPid);
    // npm, the server's node, and the embedded postgres with its workers.
    expect(everything.length).toBeGreaterThanOrEqual(3);
    expect(postgresPids().length).toBeGreaterThan(0);

    process.kill(npmPid, 'SIGTERM');
    expect(await server.exited).toBe(0);
    // npm exits once its child has; poll (bounded) for the last process to be reaped.
    await eventually('every process to be reaped', () => alive(everything).length === 0, 5000);
    expect(alive(everything)).toEqual([]);
    expect(postgresPids()).toEqual([]);
  }, 120_000);

  it('refuses, in one line, a data dir made by another PostgreSQL major (e.g. an old .data/ from PostgreSQL 18)', async () => {
    const oldDir = mkdtempSync(path.join(tmpdir(), 'numina-pg18-'));
    try {
      mkdirSync(path.join(oldDir, 'postgres'));
      writeFileSync(path.join(oldDir, 'postgres', 'PG_VERSION'), '18\n');
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env: { ...env(), DATA_DIR: oldDir, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^numina: refusing to start: .*postgres was created by PostgreSQL 18, but the embedded server is PostgreSQL 15: /),
      ]);
    } finally {
      rmSync(oldDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses to start on a taken port with a clear error and stops the database', async () => {
    const blocker = (await import('node:net')).createServer().listen(httpPort, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      server = start();
      expect(await server.exited).toBe(1);
      expect(postgresPids()).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 120_000);
});
