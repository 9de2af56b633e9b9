/**
 * Every answer of the real API carries the security headers, whoever asks and whatever the route group:
 * a CSP without inline script and with `frame-ancestors 'none'`, nosniff, a same-origin referrer, `no-store` on all
 * but the static assets; HSTS only in production; with PUBLIC_ORIGIN a request for another Host is refused.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../api/server.js';
import { loadConfig } from '../../lib/config.js';
import { startApiHarness } from '../helpers/api.js';
import { MUNICIPALITY } from '../helpers/fixtures.js';
import type { TestHarness } from '../helpers/temporal.js';
import { makeUser, signIn } from './caseworker-helpers.js';
import { DEMO_TOKEN_REQUEST } from './ddas-fixtures.js';

let h: TestHarness;
let app: FastifyInstance;
let manager: { cookie: string; csrf: string };
let caseworker: { cookie: string; csrf: string };

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
  manager = await signIn(app, await makeUser(h.db, ['manager', 'caseworker'], ['schulddienstverlening']));
  caseworker = await signIn(app, await makeUser(h.db, ['caseworker'], ['schulddienstverlening']));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** Anonymous, partner-facing, caseworker and manager answers, successes and refusals alike. */
const PERSONAL = [
  ['anonymous', '/login'],
  ['anonymous', '/taken'],
  ['anonymous', '/api/v1/tasks'],
  ['anonymous', '/api/v1/partner-feedback'],
  ['anonymous', '/ddas/v1/gegevens'],
  ['anonymous', '/health'],
  ['anonymous', '/docs'],
  ['anonymous', '/niet-bestaand'],
  ['caseworker', '/taken'],
  ['caseworker', '/api/v1/tasks'],
  ['caseworker', '/beheer/zaken'],
  ['manager', '/beheer/zaken'],
  ['manager', '/beheer/monitor'],
  ['manager', '/api/v1/monitor'],
  ['manager', '/api/v1/cases/00000000-0000-4000-8000-000000000000/history'],
] as const;

function cookieFor(who: string): Record<string, string> {
  if (who === 'manager') return { cookie: manager.cookie };
  if (who === 'caseworker') return { cookie: caseworker.cookie };
  return {};
}

function expectSecurityHeaders(res: LightMyRequestResponse, label: string) {
  const csp = String(res.headers['content-security-policy']);
  expect(csp, label).toContain("script-src 'self'");
  expect(csp, label).toContain("frame-ancestors 'none'");
  expect(csp, label).toContain("object-src 'none'");
  expect(csp, label).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(res.headers['x-content-type-options'], label).toBe('nosniff');
  expect(res.headers['referrer-policy'], label).toBe('same-origin');
  expect(res.headers['x-frame-options'], label).toBe('DENY');
}

describe('security headers', () => {
  it.each(PERSONAL)('%s GET %s: CSP, nosniff, same-origin referrer, no-store', async (who, url) => {
    const res = await app.inject({ method: 'GET', url, headers: cookieFor(who) });
    expect(res.statusCode, url).toBeLessThan(500);
    expectSecurityHeaders(res, url);
    expect(res.headers['cache-control'], url).toBe('no-store');
    // Development: no HSTS, or a browser would refuse http://127.0.0.1 for a year.
    expect(res.headers['strict-transport-security'], url).toBeUndefined();
  });

  it('lets the static assets be cached, still with nosniff', async () => {
    for (const url of ['/assets/app.js', '/assets/utrecht/theme.css', '/assets/mermaid.min.js']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control'], url).not.toBe('no-store');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('carries the headers on a POST that is refused, and on a sign-in', async () => {
    const refused = await app.inject({ method: 'POST', url: '/uitloggen', headers: cookieFor('manager') });
    expect(refused.statusCode).toBe(403);
    expectSecurityHeaders(refused, 'POST /uitloggen without CSRF');
    expect(refused.headers['cache-control']).toBe('no-store');
    const login = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: 'x', password: 'y' },
    });
    expect(login.statusCode).toBe(401);
    expectSecurityHeaders(login, 'POST /login');
    expect(login.headers['cache-control']).toBe('no-store');
  });
});

describe('production headers and the Host check', () => {
  let production: FastifyInstance;
  beforeAll(async () => {
    production = await buildServer({
      db: h.db,
      temporal: h.client,
      taskQueue: h.taskQueue,
      municipality: MUNICIPALITY,
      config: loadConfig({ NODE_ENV: 'production', PUBLIC_ORIGIN: 'https://vroeg.gemeente.example' }),
    });
  });
  afterAll(async () => {
    await production?.close();
  });

  it('sends HSTS and upgrade-insecure-requests in production', async () => {
    const res = await production.inject({
      method: 'GET',
      url: '/login',
      headers: { host: 'vroeg.gemeente.example' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
  });

  it('refuses a request for another Host with 421 before any route, but answers health probes', async () => {
    for (const host of ['evil.example', 'vroeg.gemeente.example.evil.example', '127.0.0.1:3000']) {
      for (const [method, url] of [
        ['GET', '/login'],
        ['POST', '/login'],
        ['GET', '/api/v1/tasks'],
        ['POST', '/api/v1/signals'],
      ] as const) {
        const res = await production.inject({ method, url, headers: { host } });
        expect([host, method, url, res.statusCode]).toEqual([host, method, url, 421]);
        expectSecurityHeaders(res, `${host} ${url}`);
      }
    }
    const probe = await production.inject({
      method: 'GET',
      url: '/health',
      headers: { host: '10.0.0.7:3000' },
    });
    expect(probe.statusCode).toBeLessThan(500);
    expect(probe.statusCode).not.toBe(421);
    const ours = await production.inject({
      method: 'GET',
      url: '/login',
      headers: { host: 'VROEG.gemeente.example' },
    });
    expect(ours.statusCode).toBe(200);
  });
});

describe('error answers repeat nothing of the request', () => {
  it('answers an unknown route with a fixed 404, not the URL and its query', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/zoek?bsn=123456782&naam=Fuzzkowski' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'deze route bestaat niet' });
  });

  it('names an unknown DDAS request field by its place only', async () => {
    const token = (await app.inject(DEMO_TOKEN_REQUEST)).json().access_token;
    const res = await app.inject({
      method: 'POST',
      url: '/ddas/v1/gegevens',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: { Fuzzkowski123456782: 1 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('(onbekend veld)');
    expect(res.body).not.toContain('Fuzzkowski');
    expect(res.body).not.toContain('123456782');
  });
});
