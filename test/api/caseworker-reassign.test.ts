/**
 * `POST /api/v1/tasks/{id}/reassign` on the real Temporal dev server and PostgreSQL: a team lead gives a
 * task to a teammate, not to someone of another team, and a caseworker may not reassign at all.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness } from '../helpers/api.js';
import type { TestHarness } from '../helpers/temporal.js';
import { makeUser, openTask, signIn, startCase } from './caseworker-helpers.js';

let h: TestHarness;
let app: FastifyInstance;

beforeAll(async () => {
  ({ h, app } = await startApiHarness());
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function assigneeOf(id: string) {
  const row = await h.db.selectFrom('tasks').select('assigned_to').where('id', '=', id).executeTakeFirst();
  return row?.assigned_to;
}

describe('reassigning a task', () => {
  it('lets a team lead reassign to a teammate only; a caseworker may not reassign', async () => {
    const lead = await makeUser(h.db, ['teamlead'], ['schulddienstverlening'], 'tl');
    const teammate = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const outsider = await makeUser(h.db, ['caseworker'], ['wijkteam']);
    const leadSession = await signIn(app, lead);
    const teammateSession = await signIn(app, teammate);
    // Zorg signals go to the debt team (schulddienstverlening).
    const { stored } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);
    const reassign = (session: { cookie: string; csrf: string }, assignee: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/tasks/${task.id}/reassign`,
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
        payload: { assignee },
      });

    const ok = await reassign(leadSession, teammate);
    expect(ok.statusCode).toBe(200);
    expect(await assigneeOf(task.id)).toBe(teammate);
    const mine = await app.inject({
      method: 'GET',
      url: '/api/v1/tasks?scope=mine',
      headers: { cookie: teammateSession.cookie },
    });
    expect(mine.json().items.map((i: { id: string }) => i.id)).toEqual([task.id]);

    const foreign = await reassign(leadSession, outsider);
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().error).toContain(outsider);
    expect(foreign.json().error).toContain('geen actief lid van team schulddienstverlening');
    expect(await assigneeOf(task.id)).toBe(teammate);

    const unknown = await reassign(leadSession, 'bestaat-niet');
    expect(unknown.statusCode).toBe(422);
    expect(await assigneeOf(task.id)).toBe(teammate);

    const byCaseworker = await reassign(teammateSession, lead);
    expect(byCaseworker.statusCode).toBe(403);
    expect(await assigneeOf(task.id)).toBe(teammate);
  });
});
