/**
 * The caseworkers' JSON API in `/openapi.json`: every route with its parameters, bodies, responses and the
 * session cookie + CSRF security; and real answers (on the real Temporal server and PostgreSQL) that match
 * the documented schemas, so the description cannot drift from what the handlers send.
 */
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness } from '../helpers/api.js';
import type { TestHarness } from '../helpers/temporal.js';
import { makeUser, openTask, signIn, startCase } from './caseworker-helpers.js';

interface Operation {
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, string>> };
}

const ROUTES = [
  ['get', '/api/v1/tasks'],
  ['post', '/api/v1/tasks/{id}/claim'],
  ['post', '/api/v1/tasks/{id}/release'],
  ['post', '/api/v1/tasks/{id}/complete'],
  ['post', '/api/v1/tasks/{id}/reassign'],
  ['get', '/api/v1/cases/{id}'],
  ['post', '/api/v1/cases/{id}/resident-contact'],
] as const;

let h: TestHarness;
let app: FastifyInstance;
let spec: Spec;
// Formats (uuid, date-time) carry patterns in the description; `nullable` is OpenAPI 3.0's own keyword.
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  spec = res.json();
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

function operation(method: string, path: string): Operation {
  const op = spec.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in /openapi.json`);
  return op;
}

/** Checks a real answer against the schema documented for its path, method and status. */
function expectDocumented(method: string, path: string, res: { statusCode: number; json(): unknown }) {
  const schema = operation(method, path).responses[String(res.statusCode)]?.content?.['application/json']
    ?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} documents no ${res.statusCode} answer`);
  const validate = ajv.compile(schema);
  const body = res.json();
  expect(validate(body), `${res.statusCode} of ${path}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

describe('OpenAPI description of the caseworker API', () => {
  it('lists every caseworker route with its parameters, body, answers and security', () => {
    expect(spec.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie' });
    expect(spec.components.securitySchemes.csrfToken).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-csrf-token',
    });
    // Only the JSON API is described: no HTML page, no health or demo route.
    for (const page of ['/taken', '/taken/{id}', '/zaken/{id}', '/login', '/health', '/demo/mail']) {
      expect(spec.paths[page], page).toBeUndefined();
    }
    for (const [method, path] of ROUTES) {
      const op = operation(method, path);
      expect(op.tags).toContain('caseworkers');
      expect(op.security).toEqual(
        method === 'get' ? [{ sessionCookie: [] }] : [{ sessionCookie: [], csrfToken: [] }],
      );
      expect(op.responses['200']?.content?.['application/json']?.schema).toBeTypeOf('object');
      expect(op.responses['401']?.content?.['application/json']?.schema).toBeTypeOf('object');
      if (path.includes('{id}')) {
        expect(op.parameters).toContainEqual(
          expect.objectContaining({ in: 'path', name: 'id', required: true }),
        );
      }
    }
    const query = operation('get', '/api/v1/tasks')
      .parameters?.filter((p) => p.in === 'query')
      .map((p) => p.name);
    expect(query).toEqual(
      expect.arrayContaining([
        'scope',
        'kind',
        'area',
        'partnerType',
        'crisis',
        'unassigned',
        'page',
        'pageSize',
      ]),
    );
    for (const path of [
      '/api/v1/tasks/{id}/complete',
      '/api/v1/tasks/{id}/reassign',
      '/api/v1/cases/{id}/resident-contact',
    ]) {
      const body = operation('post', path).requestBody?.content['application/json']?.schema as
        | { required?: string[] }
        | undefined;
      expect(body?.required?.length, `${path} documents its required body fields`).toBeGreaterThan(0);
    }
    expect(operation('post', '/api/v1/tasks/{id}/complete').responses['409']).toBeDefined();
    // The objection flag says what it does to the case: the running outreach stops, later signals start none.
    for (const path of ['/api/v1/tasks/{id}/complete', '/api/v1/cases/{id}/resident-contact']) {
      const body = operation('post', path).requestBody?.content['application/json']?.schema as {
        properties: Record<string, { description?: string }>;
      };
      expect(body.properties.objection?.description, path).toMatch(/the running outreach stops/);
      expect(body.properties.objection?.description, path).toMatch(/Niet opgepakt: andere reden/);
    }
  });

  it('answers in the documented shapes', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { cookie, csrf } = await signIn(app, user);
    const headers = { cookie, 'x-csrf-token': csrf };
    const { stored } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);

    expectDocumented('get', '/api/v1/tasks', await app.inject({ method: 'GET', url: '/api/v1/tasks' }));
    const inbox = await app.inject({ method: 'GET', url: '/api/v1/tasks?pageSize=100', headers: { cookie } });
    expect(inbox.statusCode).toBe(200);
    expect(inbox.json().items.map((i: { id: string }) => i.id)).toContain(task.id);
    expectDocumented('get', '/api/v1/tasks', inbox);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/tasks?area=abc', headers: { cookie } });
    expect(bad.statusCode).toBe(400);
    expectDocumented('get', '/api/v1/tasks', bad);

    const claimed = await app.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, headers });
    expect(claimed.statusCode).toBe(200);
    expectDocumented('post', '/api/v1/tasks/{id}/claim', claimed);
    const released = await app.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/release`, headers });
    expect(released.statusCode).toBe(200);
    expectDocumented('post', '/api/v1/tasks/{id}/release', released);

    const caseView = await app.inject({ method: 'GET', url: `/api/v1/cases/${task.case_id}`, headers });
    expect(caseView.statusCode).toBe(200);
    expectDocumented('get', '/api/v1/cases/{id}', caseView);

    // "Not reached", twice: the workflow records the first and refuses the second (409).
    const complete = () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/tasks/${task.id}/complete`,
        headers,
        payload: { reached: false },
      });
    const done = await complete();
    expect(done.statusCode).toBe(200);
    expectDocumented('post', '/api/v1/tasks/{id}/complete', done);
    const again = await complete();
    expect(again.statusCode).toBe(409);
    expectDocumented('post', '/api/v1/tasks/{id}/complete', again);
    const lateClaim = await app.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, headers });
    expect(lateClaim.statusCode).toBe(409);
    expectDocumented('post', '/api/v1/tasks/{id}/claim', lateClaim);
  });
});
