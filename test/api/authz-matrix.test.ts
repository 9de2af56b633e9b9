/**
 * The authorization matrix on the real API: every principal (anonymous, a caseworker of each team, a team
 * lead, a manager, an admin, a partner token, a DDAS token) against every route that holds or changes
 * personal data, with a case of each team. A cell either reaches its handler (allowed) or is refused with
 * 401, 403 or 404 (a page: to the sign-in page), never a 5xx; another team's case is "not found".
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePartner } from '../../db/repositories/intake.js';
import { createPartnerToken } from '../../db/repositories/partner-tokens.js';
import { startApiHarness } from '../helpers/api.js';
import type { TestHarness } from '../helpers/temporal.js';
import { makeUser, openTask, PASSWORD, startCase } from './caseworker-helpers.js';
import { DEMO_TOKEN_REQUEST } from './ddas-fixtures.js';

type Principal = 'anonymous' | 'cwS' | 'cwW' | 'leadS' | 'manager' | 'admin' | 'partner' | 'ddas';
const PRINCIPALS: Principal[] = ['anonymous', 'cwS', 'cwW', 'leadS', 'manager', 'admin', 'partner', 'ddas'];

let h: TestHarness;
let app: FastifyInstance;
const headers = new Map<Principal, Record<string, string>>();
const ids = { caseS: '', caseW: '', taskS: '', taskW: '' };

/** Signs in by the form; the cookie, and the session's CSRF token (read where the session is stored). */
async function session(roles: string[], teams: string[]): Promise<Record<string, string>> {
  const username = await makeUser(h.db, roles, teams, 'authz');
  const res = await app.inject({ method: 'POST', url: '/login', payload: { username, password: PASSWORD } });
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode}`);
  const cookie = res.cookies[0]!;
  const row = await h.db
    .selectFrom('user_sessions')
    .select('csrf_token')
    .where('id_hash', '=', createHash('sha256').update(cookie.value).digest('hex'))
    .executeTakeFirstOrThrow();
  return { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': row.csrf_token };
}

beforeAll(async () => {
  ({ h, app } = await startApiHarness({}));
  const s = await startCase(h, 'Zorg');
  const w = await startCase(h, 'Huur');
  const taskS = await openTask(h.db, s.stored.caseKey, 'phone', 1);
  const taskW = await openTask(h.db, w.stored.caseKey, 'phone', 1);
  Object.assign(ids, { caseS: taskS.case_id, caseW: taskW.case_id, taskS: taskS.id, taskW: taskW.id });
  headers.set('anonymous', {});
  headers.set('cwS', await session(['caseworker'], ['schulddienstverlening']));
  headers.set('cwW', await session(['caseworker'], ['wijkteam']));
  headers.set('leadS', await session(['teamlead', 'caseworker'], ['schulddienstverlening']));
  headers.set('manager', await session(['manager'], ['schulddienstverlening', 'wijkteam']));
  headers.set('admin', await session(['admin'], ['schulddienstverlening', 'wijkteam']));
  const partner = await ensurePartner(h.db, 'Authz Energie', 'Energie');
  headers.set('partner', {
    authorization: `Bearer ${(await createPartnerToken(h.db, partner, 'authz')).token}`,
  });
  const ddas = await app.inject(DEMO_TOKEN_REQUEST);
  headers.set('ddas', { authorization: `Bearer ${ddas.json().access_token}` });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await h?.close();
});

interface Cell {
  method: 'GET' | 'POST';
  url: () => string;
  /** Who reaches the handler; everyone else is refused. */
  allowed: Principal[];
  payload?: Record<string, unknown>;
}

const CASEWORK_S: Principal[] = ['cwS', 'leadS', 'admin'];
const CASEWORK_W: Principal[] = ['cwW', 'admin'];
const CASEWORK_ANY: Principal[] = ['cwS', 'cwW', 'leadS', 'admin'];
const OVERSIGHT_ALL: Principal[] = ['leadS', 'manager', 'admin'];

const ROUTES: Record<string, Cell> = {
  'inbox page': { method: 'GET', url: () => '/taken', allowed: CASEWORK_ANY },
  'task page (debt team)': { method: 'GET', url: () => `/taken/${ids.taskS}`, allowed: CASEWORK_S },
  'task page (wijkteam)': { method: 'GET', url: () => `/taken/${ids.taskW}`, allowed: CASEWORK_W },
  'case page (debt team)': { method: 'GET', url: () => `/zaken/${ids.caseS}`, allowed: CASEWORK_S },
  'case page (wijkteam)': { method: 'GET', url: () => `/zaken/${ids.caseW}`, allowed: CASEWORK_W },
  'home visits page': { method: 'GET', url: () => '/huisbezoeken', allowed: CASEWORK_ANY },
  'tasks API': { method: 'GET', url: () => '/api/v1/tasks', allowed: CASEWORK_ANY },
  'case API (debt team)': { method: 'GET', url: () => `/api/v1/cases/${ids.caseS}`, allowed: CASEWORK_S },
  'case API (wijkteam)': { method: 'GET', url: () => `/api/v1/cases/${ids.caseW}`, allowed: CASEWORK_W },
  'claim (debt team)': { method: 'POST', url: () => `/api/v1/tasks/${ids.taskS}/claim`, allowed: CASEWORK_S },
  'claim (wijkteam)': { method: 'POST', url: () => `/api/v1/tasks/${ids.taskW}/claim`, allowed: CASEWORK_W },
  'release (debt team)': {
    method: 'POST',
    url: () => `/api/v1/tasks/${ids.taskS}/release`,
    allowed: CASEWORK_S,
  },
  'reassign (debt team)': {
    method: 'POST',
    url: () => `/api/v1/tasks/${ids.taskS}/reassign`,
    allowed: ['leadS', 'admin'],
    payload: { assignee: 'niemand-in-dit-team' },
  },
  'reassign (wijkteam)': {
    method: 'POST',
    url: () => `/api/v1/tasks/${ids.taskW}/reassign`,
    allowed: ['admin'],
    payload: { assignee: 'niemand-in-dit-team' },
  },
  'case list (managers)': { method: 'GET', url: () => '/beheer/zaken', allowed: OVERSIGHT_ALL },
  'case history page (debt team)': {
    method: 'GET',
    url: () => `/beheer/zaken/${ids.caseS}`,
    allowed: OVERSIGHT_ALL,
  },
  'case history page (wijkteam)': {
    method: 'GET',
    url: () => `/beheer/zaken/${ids.caseW}`,
    allowed: ['manager', 'admin'],
  },
  'case history API (debt team)': {
    method: 'GET',
    url: () => `/api/v1/cases/${ids.caseS}/history`,
    allowed: OVERSIGHT_ALL,
  },
  'case history API (wijkteam)': {
    method: 'GET',
    url: () => `/api/v1/cases/${ids.caseW}/history`,
    allowed: ['manager', 'admin'],
  },
  'monitor page': { method: 'GET', url: () => '/beheer/monitor', allowed: OVERSIGHT_ALL },
  'monitor API': { method: 'GET', url: () => '/api/v1/monitor', allowed: OVERSIGHT_ALL },
  'monitor CSV': { method: 'GET', url: () => '/api/v1/monitor/summary.csv', allowed: OVERSIGHT_ALL },
  'partner: one signal': {
    method: 'POST',
    url: () => '/api/v1/signals',
    allowed: ['partner'],
    payload: { partnerReference: 'authz' },
  },
  'partner: feedback': { method: 'GET', url: () => '/api/v1/partner-feedback', allowed: ['partner'] },
  'partner: objection': {
    method: 'POST',
    url: () => '/api/v1/objections',
    allowed: ['partner'],
    payload: {},
  },
  'DDAS: gegevens': { method: 'POST', url: () => '/ddas/v1/gegevens', allowed: ['ddas'], payload: {} },
};

const cells = Object.entries(ROUTES).flatMap(([name, cell]) =>
  PRINCIPALS.map((who) => ({ name, cell, who })),
);

describe(`authorization matrix (${cells.length} cells)`, () => {
  it.each(cells.map((c) => [c.who, c.name, c] as const))('%s -> %s', async (_who, _name, { cell, who }) => {
    const url = cell.url();
    const res = await app.inject({
      method: cell.method,
      url,
      headers: { ...headers.get(who), ...(cell.payload ? { 'content-type': 'application/json' } : {}) },
      ...(cell.payload ? { payload: cell.payload } : {}),
    });
    const label = `${who} ${cell.method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`;
    expect(res.statusCode, label).toBeLessThan(500);
    const toSignIn = res.statusCode === 303 && String(res.headers.location).startsWith('/login');
    const refused = [401, 403, 404].includes(res.statusCode) || toSignIn;
    expect(refused ? 'refused' : 'reached', label).toBe(cell.allowed.includes(who) ? 'reached' : 'refused');
  });

  it("lists only the team lead's own team's cases on the managers' case list", async () => {
    const list = (who: Principal) =>
      app.inject({ method: 'GET', url: '/beheer/zaken?team=wijkteam', headers: headers.get(who) });
    expect((await list('leadS')).body).toContain('<p class="utrecht-paragraph">0 zaken, pagina 1 van 1.</p>');
    expect((await list('manager')).body).not.toContain('>0 zaken,');
  });

  it('shows the resident name on the history page to the case team only (need to know)', async () => {
    const url = `/beheer/zaken/${ids.caseS}`;
    const lead = await app.inject({ method: 'GET', url, headers: headers.get('leadS') });
    expect(lead.body).toMatch(/Inwoner: <strong>/);
    for (const who of ['manager', 'admin'] as const) {
      const res = await app.inject({ method: 'GET', url, headers: headers.get(who) });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/Inwoner: <strong>/);
      expect(res.body).toContain('De naam van de inwoner ziet alleen het team dat de zaak behandelt.');
    }
  });
});
