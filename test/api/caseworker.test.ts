/**
 * The caseworker API on the real Temporal dev server and PostgreSQL: sign-in, team isolation, claim,
 * completion through the workflow's Update, and the refusal a second completion gets.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countsOf } from '../../api/routes/caseworkers/inbox.js';
import { storeConsentForm } from '../../db/repositories/consent-forms.js';
import { groupMatches, type InboxFilter, type InboxGroup } from '../../db/repositories/tasks.js';
import { startApiHarness } from '../helpers/api.js';
import { historyText } from '../helpers/cases.js';
import type { TestHarness } from '../helpers/temporal.js';
import { eventually, makeUser, openTask, signIn, startCase } from './caseworker-helpers.js';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('caseworker API', () => {
  it('refuses the API without a session and a wrong password', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/tasks' })).statusCode).toBe(401);
    const page = await app.inject({ method: 'GET', url: '/taken' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Ftaken');
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: user, password: 'fout' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('klopt niet');
  });

  it('sets a Secure HttpOnly session cookie and demands the CSRF token on changes', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username: user, password: 'test-wachtwoord-123' },
    });
    const cookie = res.cookies[0]!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    const { stored } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);
    const session = `${cookie.name}=${cookie.value}`;
    const noToken = await app.inject({
      method: 'POST',
      url: `/api/v1/tasks/${task.id}/claim`,
      headers: { cookie: session },
    });
    expect(noToken.statusCode).toBe(403);
    const crossSite = await app.inject({
      method: 'POST',
      url: `/api/v1/tasks/${task.id}/claim`,
      headers: { cookie: session, origin: 'https://evil.example' },
    });
    expect(crossSite.statusCode).toBe(403);
  });

  it('claims, completes "not reached" and shows the next attempt; another team gets 404', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const other = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    const { cookie, csrf } = await signIn(app, user);
    const otherSession = await signIn(app, other);
    const { stored, area } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);

    const list = await app.inject({
      method: 'GET',
      url: `/api/v1/tasks?scope=team&area=${area}`,
      headers: { cookie },
    });
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.items.map((i: { id: string }) => i.id)).toContain(task.id);
    expect(body.counts.kind.phone).toBeGreaterThanOrEqual(1);

    const headers = { cookie, 'x-csrf-token': csrf };
    expect(
      (await app.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, headers })).statusCode,
    ).toBe(200);
    const mine = await app.inject({ method: 'GET', url: '/api/v1/tasks?scope=mine', headers: { cookie } });
    expect(mine.json().items.map((i: { id: string }) => i.id)).toEqual([task.id]);

    const foreign = { cookie: otherSession.cookie, 'x-csrf-token': otherSession.csrf };
    expect(
      (await app.inject({ method: 'POST', url: `/api/v1/tasks/${task.id}/claim`, headers: foreign }))
        .statusCode,
    ).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/cases/${task.case_id}`, headers: foreign }))
        .statusCode,
    ).toBe(404);

    const done = await app.inject({
      method: 'POST',
      url: `/api/v1/tasks/${task.id}/complete`,
      headers,
      payload: { reached: false, note: 'Voicemail ingesproken' },
    });
    expect(done.statusCode).toBe(200);
    const row = await h.db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', task.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'completed',
      outcome: 'not_reached',
      note: 'Voicemail ingesproken',
      completed_by: user,
    });

    const next = await openTask(h.db, stored.caseKey, 'phone', 2);
    const caseRes = await app.inject({
      method: 'GET',
      url: `/api/v1/cases/${task.case_id}`,
      headers: { cookie },
    });
    expect(caseRes.statusCode).toBe(200);
    const view = caseRes.json();
    expect(view.tasks.map((t: { id: string }) => t.id)).toContain(next.id);
    expect(
      view.contactAttempts.map((a: { soort: string; bereikt: boolean }) => `${a.soort}:${a.bereikt}`),
    ).toContain('Telefoon:false');
    expect(view.resident.address.postcode).toBe(`${area} QZ`);
    // One partner, one signal: a single signal (no other partner, no earlier month).
    expect(view.signals.map((s: { classification: string }) => s.classification)).toEqual(['single']);
    expect(view.objection).toBeNull();

    // The same task again: the workflow's validator refuses, with its Dutch sentence.
    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/tasks/${task.id}/complete`,
      headers,
      payload: { reached: false },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toContain('al afgerond');
  });

  it("records the resident's own contact with consent and closes the case", async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { cookie, csrf } = await signIn(app, user);
    const { stored } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);
    const contact = (outcome: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/cases/${task.case_id}/resident-contact`,
        headers: { cookie, 'x-csrf-token': csrf },
        payload: { channel: 'desk', outcome },
      });
    expect((await contact({ kind: 'consent' })).statusCode).toBe(400);
    // A date that does not exist is refused here, before it could reach the history and the dossier.
    const impossible = await contact({
      kind: 'consent',
      consentDate: '2026-13-01',
      consentReference: 'TF-1',
    });
    expect(impossible.statusCode).toBe(400);
    expect(impossible.body).toContain('is geen bestaande datum');
    // The same submission sent again with the reference corrected: the last one typed is kept.
    const form = { id: `test:${task.case_id}`, caseId: task.case_id, recordedBy: user };
    await storeConsentForm(h.db, { ...form, reference: 'TF-typo' });
    await storeConsentForm(h.db, { ...form, reference: 'TF-1' });
    expect(
      await h.db.selectFrom('consent_forms').select('reference').where('id', '=', form.id).executeTakeFirst(),
    ).toEqual({ reference: 'TF-1' });
    const res = await contact({
      kind: 'consent',
      consentDate: '2026-11-27',
      consentReference: 'TF-Fuzzkowski-0001',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().case.stage).toBe('handedOver');
    // The typed reference reached the dossier through PostgreSQL, never the workflow's history.
    const dossier = await eventually(() =>
      h.db
        .selectFrom('dossiers')
        .select('consent_reference')
        .where('case_id', '=', task.case_id)
        .executeTakeFirst(),
    );
    expect(dossier.consent_reference).toBe('TF-Fuzzkowski-0001');
    const { workflow_id } = await h.db
      .selectFrom('cases')
      .select('workflow_id')
      .where('id', '=', task.case_id)
      .executeTakeFirstOrThrow();
    const history = await historyText(h.client.workflow.getHandle(workflow_id));
    expect(history).toContain('consentFormId');
    expect(history).not.toContain('Fuzzkowski');
  });
});

describe('inbox counts', () => {
  /** The facets by their definition: a dimension's counts are those of the tasks passing every other filter. */
  function facetsByDefinition(groups: InboxGroup[], f: InboxFilter) {
    const sum = (keep: (g: InboxGroup) => boolean, key: (g: InboxGroup) => string[]) => {
      const out: Record<string, number> = {};
      for (const g of groups.filter(keep)) for (const k of key(g)) out[k] = (out[k] ?? 0) + g.count;
      return out;
    };
    const without = (dimension: keyof InboxFilter) => (g: InboxGroup) =>
      groupMatches(g, { ...f, [dimension]: undefined });
    return {
      total: groups.filter((g) => groupMatches(g, f)).reduce((n, g) => n + g.count, 0),
      counts: {
        kind: sum(without('kind'), (g) => [g.kind]),
        crisis: sum(without('crisis'), (g) => [g.crisis ? 'ja' : 'nee']),
        area: sum(without('area'), (g) => [g.area ?? 'onbekend']),
        partnerType: sum(without('partnerType'), (g) => g.partnerTypes),
        unassigned: groups
          .filter((g) => g.unassigned && without('unassigned')(g))
          .reduce((n, g) => n + g.count, 0),
      },
    };
  }

  it('counts each filter under all the other active filters', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
    const types = [['Huur'], ['Zorg'], ['Huur', 'Energie'], []];
    const groups: InboxGroup[] = Array.from({ length: 400 }, () => ({
      kind: pick(['phone', 'visit'] as const),
      crisis: random() < 0.2,
      unassigned: random() < 0.5,
      area: pick(['1761', '1762', '1763', null]),
      partnerTypes: pick(types),
      count: 1 + Math.floor(random() * 50),
    }));
    const filters: InboxFilter[] = [{}];
    for (let i = 0; i < 200; i++) {
      filters.push({
        kind: pick([undefined, 'phone', 'visit'] as const),
        crisis: pick([undefined, true, false]),
        area: pick([undefined, '1761', '1763', '9999']),
        partnerType: pick([undefined, 'Huur', 'Energie', 'Water']),
        unassigned: pick([undefined, true]),
      });
    }
    for (const f of filters) expect(countsOf(groups, f)).toEqual(facetsByDefinition(groups, f));
    expect(countsOf(groups, {}).total).toBe(groups.reduce((n, g) => n + g.count, 0));
  });
});
