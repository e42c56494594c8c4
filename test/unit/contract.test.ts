import { createContractChecker } from '../helpers/contract.js';

/** The response check every API test runs must itself be able to fail. */
const doc = {
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          '404': { content: { 'application/problem+json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/things/special': { get: { responses: { '204': { description: 'nothing' } } } },
  },
  components: { schemas: { Thing: { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'string' } }, required: ['id', 'amount'] } } },
};
const checker = createContractChecker(doc);

describe('the /openapi.json response check', () => {
  it('accepts a body that matches the documented schema, through a $ref', () => {
    expect(checker.check('GET', '/things/1', 200, 'application/json', '{"id":"1","amount":"1.00"}')).toBeNull();
  });

  it('rejects a body that drifts from the schema (money as a number)', () => {
    expect(checker.check('GET', '/things/1', 200, 'application/json; charset=utf-8', '{"id":"1","amount":1}')).toMatch(/amount must be string/);
  });

  it('rejects a status the document does not list for the operation', () => {
    expect(checker.check('GET', '/things/1', 500, 'application/problem+json', '{}')).toMatch(/does not document/);
  });

  it('rejects a content type the document does not list', () => {
    expect(checker.check('GET', '/things/1', 200, 'text/csv', 'id')).toMatch(/documents application\/json/);
  });

  it('matches a static path before a templated one', () => {
    expect(checker.check('GET', '/things/special', 204, null, '')).toBeNull();
    expect(checker.check('GET', '/things/special', 200, 'application/json', '{"id":"1","amount":"1"}')).toMatch(/does not document/);
  });
});
