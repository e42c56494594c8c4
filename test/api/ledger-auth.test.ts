import { randomUUID } from 'node:crypto';
import { useTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';

const t = useTestApp();

const id = randomUUID();
const ROUTES: [string, string][] = [
  ['POST', '/accounts'],
  ['GET', '/accounts'],
  ['GET', `/accounts/${id}`],
  ['PATCH', `/accounts/${id}`],
  ['DELETE', `/accounts/${id}`],
  ['GET', '/categories'],
  ['POST', '/categories'],
  ['GET', `/categories/${id}`],
  ['PATCH', `/categories/${id}`],
  ['DELETE', `/categories/${id}`],
  ['POST', '/transactions'],
  ['GET', '/transactions'],
  ['GET', '/transactions/export'],
  ['GET', `/transactions/${id}`],
  ['PUT', `/transactions/${id}`],
  ['DELETE', `/transactions/${id}`],
  ['GET', `/transactions/${id}/history`],
  ['GET', '/audit/logs'],
  ['GET', '/audit/verify'],
];

describe('every ledger and audit route needs credentials', () => {
  it.each(ROUTES)('%s %s answers 401 without a token and with a forged one', async (method, path) => {
    const json = method === 'GET' || method === 'DELETE' ? undefined : {};
    await expectProblem(await t.api(path, { method, json }), 401);
    await expectProblem(await t.api(path, { method, json, token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }), 401);
  });

  it('documents every one of them in /openapi.json with bearer security', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path.replace(id, '{id}')]?.[method.toLowerCase()];
      expect({ route: `${method} ${path}`, documented: Boolean(op), secured: (op?.security ?? []).length > 0 }).toEqual({ route: `${method} ${path}`, documented: true, secured: true });
    }
  });
});
