/**
 * Managers inspect a finished case: the timeline (JSON and page) tells in Dutch what happened in order,
 * stays readable after the resident's data was deleted, and only managers may see it. An objection shows
 * as such, never with who objected.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE_LABELS } from '../../api/web/format.js';
import { addObjection, identityOfResident } from '../../db/repositories/objections.js';
import { dispatchObjections } from '../../worker/objection-dispatcher.js';
import { caseMachine, OBJECTION_RESULT } from '../../workflows/case-machine.js';
import { completeTask, recordResidentContact } from '../../workflows/messages.js';
import { startApiHarness } from '../helpers/api.js';
import { openTask, personalValues, startCase, viewOf, waitFor } from '../helpers/cases.js';
import { MUNICIPALITY, TEST_SECRET } from '../helpers/fixtures.js';
import type { TestHarness } from '../helpers/temporal.js';
import { makeUser, signIn } from './caseworker-helpers.js';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness({ temporalUiUrl: 'http://127.0.0.1:8233' }));
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** Fails unless every prefix names an entry after the one the previous prefix named. */
function expectInOrder(texts: string[], order: string[]) {
  let from = 0;
  for (const prefix of order) {
    const at = texts.findIndex((t, i) => i >= from && t.startsWith(prefix));
    expect(at, `"${prefix}" after entry ${from} in:\n${texts.join('\n')}`).toBeGreaterThanOrEqual(from);
    from = at + 1;
  }
}

describe('case history for managers', () => {
  it('shows a declined and deleted case as an ordered Dutch timeline, without personal data', async () => {
    const { handle, record } = await startCase(h);
    await waitFor(
      () => viewOf(handle),
      (v) => v.stage === 'letter',
    );
    await handle.executeUpdate(recordResidentContact, {
      args: [{ channel: 'Telefoon', dagdeel: 'Middag', outcome: { kind: 'declined' } }],
    });
    const result = await handle.result();

    const manager = await makeUser(
      h.db,
      ['manager', 'caseworker'],
      ['schulddienstverlening', 'wijkteam'],
      'mgr',
    );
    const { cookie } = await signIn(app, manager);

    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/cases/${result.caseId}/history`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(200);
    const history = res.json();
    const texts: string[] = history.entries.map((e: { text: string }) => e.text);
    const order = [
      'Zaak gestart',
      'Signaal ontvangen van Woningstichting Testdorp (Huur)',
      'Eerste brief verstuurd',
      'Contactpoging vastgelegd: Brief, niet bereikt',
      'Inwoner nam zelf contact op (Telefoon, Middag)',
      'Partner geïnformeerd: inwoner wil geen contact',
      'Wachten tot',
      'Persoonsgegevens verwijderd',
      'Zaak afgesloten: Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering',
    ];
    // Each step appears after the one before it.
    let from = 0;
    for (const prefix of order) {
      const at = texts.findIndex((t, i) => i >= from && t.startsWith(prefix));
      expect(at, `"${prefix}" after entry ${from} in:\n${texts.join('\n')}`).toBeGreaterThanOrEqual(from);
      from = at + 1;
    }
    expect(history.stagesVisited).toEqual(['letter', 'declined', 'closed']);
    const json = JSON.stringify(history);
    for (const value of personalValues(record)) expect(json).not.toContain(value);

    const pageRes = await app.inject({
      method: 'GET',
      url: `/beheer/zaken/${result.caseId}`,
      headers: { cookie },
    });
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.body).toContain('De persoonsgegevens van deze zaak zijn verwijderd');
    expect(pageRes.body).toContain('Persoonsgegevens verwijderd');
    expect(pageRes.body).toContain('class letter,declined,closed visited');
    expect(pageRes.body).toContain(
      `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}`,
    );

    const list = await app.inject({ method: 'GET', url: '/beheer/zaken?stage=closed', headers: { cookie } });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`/beheer/zaken/${result.caseId}`);
    const byResult = await app.inject({
      method: 'GET',
      url: `/beheer/zaken?result=${encodeURIComponent('Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering')}`,
      headers: { cookie },
    });
    expect(byResult.body).toContain(`/beheer/zaken/${result.caseId}`);
    const old = await app.inject({ method: 'GET', url: '/beheer/zaken?minAgeDays=30', headers: { cookie } });
    expect(old.statusCode).toBe(200);
    expect(old.body).not.toContain(`/beheer/zaken/${result.caseId}`);
  });

  it('shows an objection registered while the case ran, and one made in the call, without personal data', async () => {
    const manager = await makeUser(h.db, ['manager'], ['schulddienstverlening'], 'mgr');
    const { cookie } = await signIn(app, manager);
    const historyOf = async (caseId: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/cases/${caseId}/history`,
        headers: { cookie },
      });
      expect(res.statusCode).toBe(200);
      return res.json() as { entries: { text: string }[]; stagesVisited: string[] };
    };

    // On the register (a partner's report) while a call is planned: the notice ends the round.
    const registered = await startCase(h);
    await openTask(registered.handle, 'phone', 1);
    const resident = await h.db
      .selectFrom('residents')
      .selectAll()
      .where('case_key', '=', registered.stored.caseKey)
      .executeTakeFirstOrThrow();
    await addObjection(
      h.db,
      { municipality: MUNICIPALITY, secret: TEST_SECRET, source: 'partner' },
      identityOfResident(resident),
    );
    expect(
      await dispatchObjections({
        db: h.db,
        client: h.client,
        objectionCaseKeys: [registered.stored.caseKey],
      }),
    ).toBe(1);
    const ended = await registered.handle.result();
    expect(ended.result).toBe(OBJECTION_RESULT);
    const history = await historyOf(ended.caseId);
    expectInOrder(
      history.entries.map((e) => e.text),
      [
        'Beltaak aangemaakt',
        'Bezwaar geregistreerd',
        'Openstaande taak vervallen',
        'Partner geïnformeerd: signaal niet opgepakt',
        'Stap: Bezwaar tegen gegevensdeling (afgesloten)',
        'Persoonsgegevens verwijderd',
        `Zaak afgesloten: ${OBJECTION_RESULT}`,
      ],
    );
    expect(history.entries.filter((e) => e.text === 'Bezwaar geregistreerd')).toHaveLength(1);
    expect(history.stagesVisited).toEqual(['letter', 'phone', 'objected', 'closed']);
    const json = JSON.stringify(history);
    for (const value of personalValues(registered.record)) expect(json).not.toContain(value);
    const page = await app.inject({
      method: 'GET',
      url: `/beheer/zaken/${ended.caseId}`,
      headers: { cookie },
    });
    expect(page.body).toContain('Bezwaar geregistreerd');
    expect(page.body).toContain('state &quot;Bezwaar tegen gegevensdeling (afgesloten)&quot; as objected');
    expect(page.body).toContain('class letter,phone,objected,closed visited');

    // Voiced in the call itself: the caseworker's record says so.
    const inCall = await startCase(h);
    const task = await openTask(inCall.handle, 'phone', 1);
    const declined = { reached: true, dagdeel: 'Middag', outcome: { kind: 'declined' } } as const;
    await inCall.handle.executeUpdate(completeTask, {
      args: [{ taskId: task.taskId, ...declined, objection: true }],
    });
    const inCallEnded = await inCall.handle.result();
    const texts = (await historyOf(inCallEnded.caseId)).entries.map((e) => e.text);
    expect(texts).toContain(
      'Medewerker legde vast: bereikt (Middag), uitkomst: Wil geen hulp, met bezwaar tegen het delen van gegevens',
    );
    expect(texts).not.toContain('Bezwaar geregistreerd');
  });

  it('names every stage of the statechart in Dutch', () => {
    for (const stage of Object.keys(caseMachine.root.states)) {
      expect(STAGE_LABELS[stage], stage).toMatch(/^[A-Z]/);
    }
    expect(STAGE_LABELS.objected).toBe('Bezwaar tegen gegevensdeling (afgesloten)');
  });

  it('refuses a caseworker and answers 404 for an unknown case', async () => {
    const caseworker = await makeUser(h.db, ['caseworker'], ['wijkteam'], 'cw');
    const { cookie } = await signIn(app, caseworker);
    const denied = await app.inject({
      method: 'GET',
      url: '/api/v1/cases/00000000-0000-4000-8000-000000000000/history',
      headers: { cookie, accept: 'application/json' },
    });
    expect(denied.statusCode).toBe(403);
    const manager = await makeUser(h.db, ['manager', 'caseworker'], ['wijkteam'], 'mgr');
    const session = await signIn(app, manager);
    const missing = await app.inject({
      method: 'GET',
      url: '/api/v1/cases/00000000-0000-4000-8000-000000000000/history',
      headers: { cookie: session.cookie },
    });
    expect(missing.statusCode).toBe(404);
  });
});
