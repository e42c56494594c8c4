import { readFileSync } from 'node:fs';
import { useTestApp } from '../helpers/app.js';

/**
 * docs/api.md, the client guide, names only endpoints the server has (as /openapi.json describes
 * them), and the project points to it rather than to any file outside the repository.
 */
const t = useTestApp();

const guide = readFileSync('docs/api.md', 'utf8');

describe('docs/api.md', () => {
  it('names only operations that /openapi.json describes', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const mentioned = [...guide.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9/{}._-]*[A-Za-z0-9}])/g)].map((m) => [m[1], m[2]] as const);
    expect(mentioned.length).toBeGreaterThan(20);
    const unknown = mentioned.filter(([method, path]) => !doc.paths[path]?.[method.toLowerCase()]).map(([m, p]) => `${m} ${p}`);
    expect(unknown).toEqual([]);
  });

  it('is where the README and the OpenAPI description send clients; nothing points outside the repository', async () => {
    const doc = (await (await t.api('/openapi.json')).json()) as { info: { description: string } };
    expect(doc.info.description).toContain('docs/api.md');
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('docs/api.md');
    for (const text of [readme, guide, doc.info.description]) expect(text).not.toMatch(/(^|[^/\w])API\.md|\.\.\/shared\//);
  });
});
