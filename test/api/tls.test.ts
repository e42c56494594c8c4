import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useTestApp } from '../helpers/app.js';

let cert: string;
const t = useTestApp(() => {
  // The pair comes from `npm run cert:dev` itself (its script, run as npm would).
  const dir = mkdtempSync(path.join(tmpdir(), 'numina-tls-'));
  execFileSync(process.execPath, ['--import', 'tsx', 'server/cli/cert-dev.ts', dir]);
  const certFile = path.join(dir, 'dev-cert.pem');
  cert = readFileSync(certFile, 'utf8');
  return { TLS_CERT_FILE: certFile, TLS_KEY_FILE: path.join(dir, 'dev-key.pem') };
});

function get(url: string, ca?: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, rejectUnauthorized: true }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
      .on('error', reject);
  });
}

describe('HTTPS', () => {
  it('serves HTTPS with the configured certificate, verified by the client, and sends HSTS', async () => {
    expect(t.url.startsWith('https://')).toBe(true);
    const res = await get(`${t.url}/healthz`, cert);
    expect(res.status).toBe(200);
    expect(String(res.headers['strict-transport-security'])).toContain('max-age=31536000');
    // Served over TLS, the docs page may ask the browser to upgrade any stray http:// fetch.
    const docs = await get(`${t.url}/docs`, cert);
    expect(String(docs.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(get(`${t.url}/healthz`)).rejects.toThrow(/self[- ]signed|unable to verify/i);
  });
});
