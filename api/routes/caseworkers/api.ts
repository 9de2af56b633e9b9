/**
 * The caseworkers' JSON API (`/api/v1/tasks`, `/api/v1/cases`), behind the session of the workspace.
 * A task or case of another team answers 404, as if it did not exist.
 *
 * Queries and bodies are validated by zod inside the handlers (Dutch messages per field); the route schemas
 * are the same zod schemas as JSON Schema, for the OpenAPI description (`/openapi.json`) only, so Fastify
 * neither validates nor reshapes with them.
 */
import type { FastifyInstance, FastifyReply, RouteShorthandOptions } from 'fastify';
import { z } from 'zod';
import { caseDetails, findCaseForTeams } from '../../../db/repositories/cases.js';
import { type AssignResult, assignTask, fullName, reassignTask } from '../../../db/repositories/tasks.js';
import { requireUser, type SessionUser, userOf } from '../../auth/index.js';
import type { ServerDependencies } from '../../server.js';
import { addressLine } from '../../web/format.js';
import { type ActionResult, completeTaskUseCase, recordResidentContactUseCase } from './complete-task.js';
import { invalidateInboxCounts, loadInbox } from './inbox.js';
import { completeTaskBody, issuesOf, residentContactBody } from './outcomes.js';
import { inboxQuery, toInboxQuery } from './query.js';

export const CASEWORK_ROLES = ['caseworker', 'teamlead', 'admin'] as const;
const idParams = z.object({ id: z.string().min(1).max(64) });
const reassignBody = z.object({ assignee: z.string().trim().min(1).max(100) });

const errorBody = z.object({
  error: z.string().describe('what went wrong (Dutch where a person reads it)'),
  issues: z.array(z.string()).optional().describe('one line per refused field: `field: reason`'),
});
const isoInstant = z.iso.datetime({ offset: true });
const countsBy = z.record(z.string(), z.number().int());
const inboxPageBody = z.object({
  items: z.array(
    z.object({
      id: z.guid(),
      caseId: z.guid(),
      kind: z.enum(['phone', 'visit']),
      attempt: z.number().int(),
      team: z.string(),
      priority: z.string().describe('normal, high or crisis'),
      preferredDagdeel: z.string().nullable(),
      dueAt: isoInstant,
      assignedTo: z.string().nullable().describe('user name, null when nobody claimed it'),
      partnerTypes: z.array(z.string()),
      residentName: z.string().nullable(),
      postcode: z.string().nullable(),
      houseNumber: z.number().int().nullable(),
      houseNumberAddition: z.string().nullable(),
      street: z.string().nullable(),
      city: z.string().nullable(),
      phone: z.string().nullable(),
    }),
  ),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int().describe('open tasks that pass the filters'),
  counts: z
    .object({
      kind: countsBy,
      crisis: countsBy.describe('keys `ja` and `nee`'),
      area: countsBy.describe('per postcode area (four digits; `onbekend` without one)'),
      partnerType: countsBy,
      unassigned: z.number().int(),
    })
    .describe('open tasks per value of each filter, under the other active filters'),
  countedAt: isoInstant.describe('team counts may lag a few seconds behind'),
});
const assignedBody = z.object({ status: z.literal('ok') });
const caseViewBody = z.object({
  caseId: z.string(),
  stage: z.string(),
  state: z.unknown().describe("the statechart's state value"),
  priority: z.string(),
  round: z.number().int(),
  openTask: z
    .object({
      taskId: z.string(),
      kind: z.enum(['phone', 'visit']),
      attempt: z.number().int(),
      dueAt: z.number().describe('epoch milliseconds'),
    })
    .nullable(),
  nextDeadline: z.number().nullable().describe('epoch milliseconds'),
  result: z.string().nullable().describe('DDAS eindresultaat once closed'),
  signals: z.number().int(),
  contactAttempts: z.number().int(),
  closed: z.boolean(),
});
const actionDoneBody = z.object({ status: z.literal('ok'), caseId: z.string(), case: caseViewBody });
const refusedBody = z.object({
  status: z.literal('refused'),
  error: z.string().describe("the workflow's reason, e.g. a colleague completed the task first"),
});
const caseBody = z.object({
  id: z.guid(),
  team: z.string(),
  stage: z.string(),
  priority: z.string(),
  round: z.number().int(),
  result: z.string().nullable(),
  nextDeadline: isoInstant.nullable(),
  startedAt: isoInstant,
  closedAt: isoInstant.nullable(),
  resident: z
    .object({
      name: z.string(),
      birthDate: z.string().describe('YYYY-MM-DD'),
      phone: z.string().nullable(),
      email: z.string().nullable(),
      address: z.object({
        street: z.string().nullable(),
        houseNumber: z.number().int().nullable(),
        houseNumberAddition: z.string().nullable(),
        postcode: z.string().nullable(),
        city: z.string().nullable(),
      }),
      detailsSource: z
        .object({ partner: z.string(), signalDate: z.string().describe('YYYY-MM-DD') })
        .nullable()
        .describe('the partner whose report (the newest signal date) the contact details are'),
      reports: z
        .array(
          z.object({
            partner: z.string(),
            signalDate: z.string(),
            phone: z.string().nullable(),
            email: z.string().nullable(),
            address: z.string(),
          }),
        )
        .describe(
          "what each partner last reported, newest first (one partner's report never hides another's)",
        ),
    })
    .nullable()
    .describe('null once the personal data is deleted'),
  objection: z
    .object({
      source: z.enum(['partner', 'visit']),
      recordedAt: isoInstant,
    })
    .nullable()
    .describe('the objection register entry of the resident (objected to sharing by creditors), or null'),
  household: z.array(z.object({ name: z.string(), birthDate: z.string() })),
  signals: z.array(
    z.object({
      id: z.guid(),
      partner: z.string(),
      partnerType: z.string(),
      amount: z.number(),
      arrearsSince: z.string().nullable(),
      signalDate: z.string(),
      crisis: z.boolean(),
      warmHandover: z.boolean(),
      classification: z
        .enum(['single', 'multiple', 'consecutive'])
        .describe(
          'single, multiple (another partner in the same month) or consecutive (again, a later month)',
        ),
      status: z.string(),
    }),
  ),
  tasks: z.array(
    z.object({
      id: z.guid(),
      kind: z.enum(['phone', 'visit']),
      attempt: z.number().int(),
      status: z.enum(['open', 'completed', 'cancelled']),
      dueAt: isoInstant,
      assignedTo: z.string().nullable(),
      outcome: z.string().nullable(),
      note: z.string().nullable(),
      completedAt: isoInstant.nullable(),
      completedBy: z.string().nullable(),
    }),
  ),
  contactAttempts: z.array(
    z.object({ soort: z.string(), bereikt: z.boolean(), at: isoInstant, dagdeel: z.string().nullable() }),
  ),
});

/** The OpenAPI 3.0 form of a zod schema. */
function doc(schema: z.ZodType, io: 'input' | 'output' = 'output', description?: string) {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
  });
  return description ? { description, ...json } : json;
}

/** Reads need the session cookie; changes also the session's CSRF token (see `components.securitySchemes`). */
const SESSION = [{ sessionCookie: [] }];
const SESSION_AND_CSRF = [{ sessionCookie: [], csrfToken: [] }];
const signedOut = { 401: doc(errorBody, 'output', 'not signed in') };
const refusedAccess = {
  403: doc(errorBody, 'output', 'wrong role, missing CSRF token, or a cross-site request'),
};
const taskParams = doc(z.object({ id: z.guid().describe('task id') }), 'input');
const caseParams = doc(z.object({ id: z.guid().describe('case id') }), 'input');
const assignResponses = {
  200: doc(assignedBody),
  400: doc(errorBody),
  ...signedOut,
  ...refusedAccess,
  404: doc(errorBody, 'output', "no such open task in the caller's teams"),
  409: doc(errorBody, 'output', 'already completed, or claimed by a colleague'),
};
const actionResponses = {
  200: doc(actionDoneBody, 'output', 'recorded by the case workflow; its view afterwards'),
  400: doc(errorBody),
  ...signedOut,
  ...refusedAccess,
  404: doc(errorBody),
  409: doc(refusedBody, 'output', 'refused by the workflow; nothing was recorded'),
  503: doc(errorBody, 'output', 'the workflow service cannot be reached; try again'),
};

/**
 * Route options: the guard, and the schemas for the documentation only (handlers validate with zod and
 * reply as before: JSON.stringify, no reshaping by the schema).
 */
function documented(preHandler: RouteShorthandOptions['preHandler'], schema: Record<string, unknown>) {
  return {
    preHandler,
    schema: { tags: ['caseworkers'], ...schema },
    validatorCompiler: () => () => true,
    serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  } satisfies RouteShorthandOptions;
}

/** `documented` for a change: the session cookie and its CSRF token. */
function changing(preHandler: RouteShorthandOptions['preHandler'], schema: Record<string, unknown>) {
  return documented(preHandler, { security: SESSION_AND_CSRF, ...schema });
}

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

/** The partner and date of the report the resident's contact details come from. */
function sourceOf(
  partnerId: string | null,
  reports: ReadonlyArray<{ partner_id: string; partnerName: string; signal_date: string }>,
) {
  const source = reports.find((x) => x.partner_id === partnerId);
  return source ? { partner: source.partnerName, signalDate: source.signal_date } : null;
}

/** Registers the JSON routes. */
export function registerCaseworkerApi(app: FastifyInstance, deps: ServerDependencies): void {
  const guard = requireUser(CASEWORK_ROLES);
  const lead = requireUser(['teamlead', 'admin']);

  app.get(
    '/api/v1/tasks',
    documented(guard, {
      summary: 'Open tasks of my teams (or mine), soonest due first, with counts per filter',
      security: SESSION,
      querystring: doc(inboxQuery, 'input'),
      response: { 200: doc(inboxPageBody), 400: doc(errorBody), ...signedOut, ...refusedAccess },
    }),
    async (request, reply) => {
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
    },
  );

  /** Claim or release: who may hold the task afterwards and who may hold it now, by the signed-in user. */
  const assignment = (
    path: string,
    summary: string,
    change: (user: SessionUser) => Pick<Parameters<typeof assignTask>[1], 'assignTo' | 'allowedCurrent'>,
  ) =>
    app.post(
      path,
      changing(guard, { summary, params: taskParams, response: assignResponses }),
      async (request, reply) => {
        const user = userOf(request);
        const { id } = idParams.parse(request.params);
        return sendAssign(reply, await assignTask(deps.db, { id, teams: user.teams, ...change(user) }));
      },
    );

  assignment('/api/v1/tasks/:id/claim', 'Claim an open task (when nobody has it, or I do)', (user) => ({
    assignTo: user.username,
    allowedCurrent: [null, user.username],
  }));
  assignment('/api/v1/tasks/:id/release', "Release my task (a team lead: anyone's)", (user) => ({
    assignTo: null,
    allowedCurrent:
      user.roles.includes('teamlead') || user.roles.includes('admin') ? 'any' : [user.username, null],
  }));

  app.post(
    '/api/v1/tasks/:id/reassign',
    changing(lead, {
      summary: 'Give an open task to an active member of its team (team leads)',
      params: taskParams,
      body: doc(reassignBody, 'input'),
      response: {
        ...assignResponses,
        422: doc(errorBody, 'output', "the assignee is no active member of the task's team"),
      },
    }),
    async (request, reply) => {
      const user = userOf(request);
      const { id } = idParams.parse(request.params);
      const body = reassignBody.safeParse(request.body);
      if (!body.success) return reply.code(400).send({ error: 'invalid body', issues: issuesOf(body.error) });
      const result = await reassignTask(deps.db, { id, teams: user.teams, assignee: body.data.assignee });
      if (result.status === 'not-member') {
        return reply.code(422).send({
          error: `Medewerker "${body.data.assignee}" is geen actief lid van team ${result.team}, het team van deze taak.`,
        });
      }
      return sendAssign(reply, result.status);
    },
  );

  /** A form sent to the case workflow as an Update: validated by `body`, then `run` with the path's id. */
  const action = <B>(
    path: string,
    summary: string,
    params: object,
    body: z.ZodType<B>,
    run: (user: SessionUser, id: string, body: B) => Promise<ActionResult>,
  ) =>
    app.post(
      path,
      changing(guard, { summary, params, body: doc(body, 'input'), response: actionResponses }),
      async (request, reply) => {
        const { id } = idParams.parse(request.params);
        const parsed = body.safeParse(request.body);
        if (!parsed.success)
          return reply.code(400).send({ error: 'invalid body', issues: issuesOf(parsed.error) });
        return sendAction(reply, await run(userOf(request), id, parsed.data));
      },
    );
  const { db, temporal } = deps;
  // The same secret intake matches residents with, so an objection covers every key of the resident.
  const matchingSecret = deps.config.MATCHING_SECRET;

  action(
    '/api/v1/tasks/:id/complete',
    'Record the outcome of a phone call or home visit (a Temporal Update of the case workflow)',
    taskParams,
    completeTaskBody,
    (user, taskId, body) => completeTaskUseCase({ db, temporal, user, taskId, body, matchingSecret }),
  );

  app.get(
    '/api/v1/cases/:id',
    documented(guard, {
      summary: 'A case of my teams: resident, household, signals, tasks and contact attempts',
      security: SESSION,
      params: caseParams,
      response: {
        200: doc(caseBody),
        ...signedOut,
        ...refusedAccess,
        404: doc(errorBody, 'output', "no such case in the caller's teams"),
      },
    }),
    async (request, reply) => {
      const user = userOf(request);
      const { id } = idParams.parse(request.params);
      const found = await findCaseForTeams(deps.db, id, user.teams);
      if (!found) return reply.code(404).send({ error: 'case not found' });
      const d = await caseDetails(deps.db, found, { secret: matchingSecret });
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
              detailsSource: sourceOf(d.resident.details_partner_id, d.reports),
              reports: d.reports.map((x) => ({
                partner: x.partnerName,
                signalDate: x.signal_date,
                phone: x.phone,
                email: x.email,
                address: addressLine(x),
              })),
            }
          : null,
        objection: d.objection
          ? { source: d.objection.source, recordedAt: d.objection.recorded_at.toISOString() }
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
          classification: s.classification,
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
    },
  );

  action(
    '/api/v1/cases/:id/resident-contact',
    'Record that the resident contacted the team (phone, e-mail or desk) and the outcome',
    caseParams,
    residentContactBody,
    (user, caseId, body) =>
      recordResidentContactUseCase({ db, temporal, user, caseId, body, matchingSecret }),
  );
}
