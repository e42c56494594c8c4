import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * `npm start` with no DATABASE_URL, as a newcomer runs it: a real process on an embedded
 * PostgreSQL under its data dir, restarted with its data, leaving no postgres behind.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'numina-embedded-'));
const pgPort = 55000 + Math.floor(Math.random() * 4000);
const httpPort = 45000 + Math.floor(Math.random() * 4000);

function start(): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(httpPort), HOST: '127.0.0.1', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), LOG_LEVEL: 'warn', NODE_ENV: 'development' };
  delete env.DATABASE_URL;
  delete env.TEST_DATABASE_URL;
  return spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
}

async function waitReady(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

function postgresRunning(): boolean {
  try {
    return execFileSync('pgrep', ['-f', path.join(dataDir, 'postgres')]).toString().trim().length > 0;
  } catch {
    return false;
  }
}

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

let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
});

describe('npm start without DATABASE_URL', () => {
  it('starts an embedded PostgreSQL, keeps data across restarts, and stops it on SIGINT and SIGTERM', async () => {
    child = start();
    await waitReady(child);
    expect(postgresRunning()).toBe(true);
    // It listens on 127.0.0.1 with a random password kept under the data dir, not the default one.
    expect(readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim()).not.toBe('password');
    await query("INSERT INTO users (email) VALUES ('keep-me@example.com')");

    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(postgresRunning()).toBe(false);

    child = start();
    await waitReady(child);
    const rows = await query("SELECT email FROM users WHERE email = 'keep-me@example.com'");
    expect(rows).toEqual([{ email: 'keep-me@example.com' }]);

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(postgresRunning()).toBe(false);
  }, 120_000);

  it('refuses to start on a taken port with a clear error and stops the database', async () => {
    const blocker = (await import('node:net')).createServer().listen(httpPort, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      child = start();
      expect(await exited(child)).toBe(1);
      expect(postgresRunning()).toBe(false);
    } finally {
      blocker.close();
    }
  }, 120_000);
});
