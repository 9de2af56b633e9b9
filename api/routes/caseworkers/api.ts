/**
 * The caseworkers' JSON API (`/api/v1/tasks`, `/api/v1/cases`), behind the session of the workspace.
 * A task or case of another team answers 404, as if it did not exist.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { caseDetails, findCaseForTeams } from '../../../db/repositories/cases.js';
import { type AssignResult, assignTask, fullName, reassignTask } from '../../../db/repositories/tasks.js';
import { requireUser, userOf } from '../../auth/index.js';
import type { ApiDependencies } from '../../server.js';
import { type ActionResult, completeTaskUseCase, recordResidentContactUseCase } from './complete-task.js';
import { invalidateInboxCounts, loadInbox } from './inbox.js';
import { completeTaskBody, issuesOf, residentContactBody } from './outcomes.js';
import { inboxQuery, toInboxQuery } from './query.js';

export const CASEWORK_ROLES = ['caseworker', 'teamlead', 'admin'] as const;
const idParams = z.object({ id: z.string().min(1).max(64) });

function sendAssign(reply: FastifyReply, result: AssignResult) {
  switch (result) {
    case 'ok':
      invalidateInboxCounts();
      return reply.code(200).send({ status: 'ok' });
    case 'not-found':
      return reply.code(404).send({ error: 'task not found' });
    case 'not-open':
      return reply.code(409).send({ error: 'Deze taak is al afgerond.' });
    case 'taken':
      return reply.code(409).send({ error: 'Deze taak is door een collega opgepakt.' });
  }
}

function sendAction(reply: FastifyReply, result: ActionResult) {
  switch (result.status) {
    case 'ok':
      invalidateInboxCounts();
      return reply.code(200).send({ status: 'ok', caseId: result.caseId, case: result.view });
    case 'not-found':
      return reply.code(404).send({ error: 'not found' });
    case 'refused':
      return reply.code(409).send({ status: 'refused', error: result.message });
    case 'unavailable':
      return reply.code(503).send({ error: result.message });
  }
}

/** Registers the JSON routes. */
export function registerCaseworkerApi(app: FastifyInstance, deps: ApiDependencies): void {
  const guard = { preHandler: requireUser(CASEWORK_ROLES) };
  const lead = { preHandler: requireUser(['teamlead', 'admin']) };

  app.get('/api/v1/tasks', guard, async (request, reply) => {
    const parsed = inboxQuery.safeParse(request.query);
    if (!parsed.success)
      return reply.code(400).send({ error: 'invalid query', issues: issuesOf(parsed.error) });
    const user = userOf(request);
    const q = toInboxQuery(parsed.data);
    const result = await loadInbox({ db: deps.db, teams: user.teams, username: user.username, ...q });
    return reply.send({
      ...result,
      items: result.items.map((i) => ({ ...i, dueAt: i.dueAt.toISOString() })),
    });
  });

  app.post('/api/v1/tasks/:id/claim', guard, async (request, reply) => {
    const user = userOf(request);
    const { id } = idParams.parse(request.params);
    return sendAssign(
      reply,
      await assignTask(deps.db, {
        id,
        teams: user.teams,
        assignTo: user.username,
        allowedCurrent: [null, user.username],
      }),
    );
  });

  app.post('/api/v1/tasks/:id/release', guard, async (request, reply) => {
    const user = userOf(request);
    const { id } = idParams.parse(request.params);
    const isLead = user.roles.includes('teamlead') || user.roles.includes('admin');
    return sendAssign(
      reply,
      await assignTask(deps.db, {
        id,
        teams: user.teams,
        assignTo: null,
        allowedCurrent: isLead ? 'any' : [user.username, null],
      }),
    );
  });

  app.post('/api/v1/tasks/:id/reassign', lead, async (request, reply) => {
    const user = userOf(request);
    const { id } = idParams.parse(request.params);
    const body = z.object({ assignee: z.string().trim().min(1).max(100) }).safeParse(request.body);
    if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
    const result = await reassignTask(deps.db, { id, teams: user.teams, assignee: body.data.assignee });
    if (result.status === 'not-member') {
      return reply.code(422).send({
        error: `Medewerker "${body.data.assignee}" is geen actief lid van team ${result.team}, het team van deze taak.`,
      });
    }
    return sendAssign(reply, result.status);
  });

  app.post('/api/v1/tasks/:id/complete', guard, async (request, reply) => {
    const { id } = idParams.parse(request.params);
    const body = completeTaskBody.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
    const result = await completeTaskUseCase({
      db: deps.db,
      temporal: deps.temporal,
      user: userOf(request),
      taskId: id,
      body: body.data,
    });
    return sendAction(reply, result);
  });

  app.get('/api/v1/cases/:id', guard, async (request, reply) => {
    const user = userOf(request);
    const { id } = idParams.parse(request.params);
    const found = await findCaseForTeams(deps.db, id, user.teams);
    if (!found) return reply.code(404).send({ error: 'case not found' });
    const d = await caseDetails(deps.db, found);
    return reply.send({
      id: found.id,
      team: found.team,
      stage: found.stage,
      priority: found.priority,
      round: found.round,
      result: found.result,
      nextDeadline: found.next_deadline?.toISOString() ?? null,
      startedAt: found.started_at.toISOString(),
      closedAt: found.closed_at?.toISOString() ?? null,
      resident: d.resident
        ? {
            name: fullName(d.resident),
            birthDate: d.resident.birth_date,
            phone: d.resident.phone,
            email: d.resident.email,
            address: {
              street: d.resident.street,
              houseNumber: d.resident.house_number,
              houseNumberAddition: d.resident.house_number_addition,
              postcode: d.resident.postcode,
              city: d.resident.city,
            },
          }
        : null,
      household: d.household.map((m) => ({ name: fullName(m), birthDate: m.birth_date })),
      signals: d.signals.map((s) => ({
        id: s.id,
        partner: s.partnerName,
        partnerType: s.partner_type,
        amount: Number(s.amount),
        arrearsSince: s.arrears_since,
        signalDate: s.signal_date,
        crisis: s.crisis,
        warmHandover: s.warm_handover,
        status: s.status,
      })),
      tasks: d.tasks.map((t) => ({
        id: t.id,
        kind: t.kind,
        attempt: t.attempt,
        status: t.status,
        dueAt: t.due_at.toISOString(),
        assignedTo: t.assigned_to,
        outcome: t.outcome,
        note: t.note,
        completedAt: t.completed_at?.toISOString() ?? null,
        completedBy: t.completed_by,
      })),
      contactAttempts: d.attempts.map((a) => ({
        soort: a.soort,
        bereikt: a.bereikt,
        at: a.attempted_at.toISOString(),
        dagdeel: a.dagdeel,
      })),
    });
  });

  app.post('/api/v1/cases/:id/resident-contact', guard, async (request, reply) => {
    const { id } = idParams.parse(request.params);
    const body = residentContactBody.safeParse(request.body);
    if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
    const result = await recordResidentContactUseCase({
      db: deps.db,
      temporal: deps.temporal,
      user: userOf(request),
      caseId: id,
      body: body.data,
    });
    return sendAction(reply, result);
  });
}
