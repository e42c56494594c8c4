import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

/**
 * Checks responses against the OpenAPI document the server itself publishes: the status must be
 * documented for that operation, and a JSON body must match the documented schema. Tests that talk
 * to the API through `TestApp.api` get this on every response, so /openapi.json cannot drift from
 * what the server really sends.
 */
type Doc = { paths: Record<string, Record<string, { responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }> }>>; components?: unknown };

interface Operation {
  method: string;
  template: string;
  re: RegExp;
  params: number;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

type AddFormats = (ajv: Ajv2020) => unknown;
// ajv-formats is CommonJS: under ESM its function is the default export's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

export interface ContractChecker {
  /** Returns what is wrong with this response, or null when it matches the document. */
  check(method: string, path: string, status: number, contentType: string | null, body: string): string | null;
}

export function createContractChecker(doc: Doc): ContractChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'numina-openapi', components: doc.components ?? {} });
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const params = (template.match(/\{[^}]+\}/g) ?? []).length;
      const re = new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$');
      ops.push({ method, template, re, params, responses: op.responses ?? {} });
    }
  }
  // A static segment wins over a parameter (/transactions/export before /transactions/{id}).
  ops.sort((a, b) => a.params - b.params);
  const compiled = new Map<unknown, ValidateFunction>();
  const validatorFor = (schema: unknown): ValidateFunction => {
    let v = compiled.get(schema);
    if (!v) {
      const rewritten = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"numina-openapi#/components/')) as object;
      v = ajv.compile(rewritten);
      compiled.set(schema, v);
    }
    return v;
  };

  return {
    check(method, rawPath, status, contentType, body) {
      const path = rawPath.split('?')[0];
      const m = method.toLowerCase();
      if (m === 'head' || m === 'options') return null;
      const op = ops.find((o) => o.method === m && o.re.test(path));
      if (!op) return null; // not an API operation (unknown route): nothing documented to compare
      const documented = op.responses[String(status)] ?? op.responses.default;
      if (!documented) return `${method.toUpperCase()} ${op.template} answered ${status}, which /openapi.json does not document (it lists ${Object.keys(op.responses).join(', ')})`;
      const type = (contentType ?? '').split(';')[0].trim();
      if (!documented.content) {
        return body.length ? `${method.toUpperCase()} ${op.template} ${status} has a body, but /openapi.json documents none` : null;
      }
      if (!contentType) return status === 204 || status === 304 ? null : `${method.toUpperCase()} ${op.template} ${status} has no content type`;
      const media = documented.content[type];
      if (!media) return `${method.toUpperCase()} ${op.template} ${status} answered ${type || 'no content type'}, /openapi.json documents ${Object.keys(documented.content).join(', ')}`;
      if (!media.schema || !/json/.test(type) || !body) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return `${method.toUpperCase()} ${op.template} ${status} is not JSON`;
      }
      const validate = validatorFor(media.schema);
      if (validate(parsed)) return null;
      const errs = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      return `${method.toUpperCase()} ${op.template} ${status} does not match /openapi.json: ${errs}\nbody: ${body.slice(0, 500)}`;
    },
  };
}
