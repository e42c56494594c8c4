import { useTestApp } from '../helpers/app.js';

const t = useTestApp();

describe('system endpoints', () => {
  it('answers /healthz with 200', async () => {
    const res = await t.api('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 while the database answers', async () => {
    const res = await t.api('/readyz');
    expect(res.status).toBe(200);
  });

  it('serves Prometheus metrics including the request histogram by route template', async () => {
    await t.api('/healthz');
    const res = await t.api('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/healthz"/);
    expect(text).toContain('db_pool_connections');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
