/** The caseworker pages (server-rendered HTML): inbox, task form, case page, visit list. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { caseDetails, findCaseForTeams, residentOfCase } from '../../../db/repositories/cases.js';
import type { ObjectionEntry } from '../../../db/repositories/objections.js';
import {
  assignTask,
  findTaskForTeams,
  fullName,
  listVisits,
  reassignTask,
  teamMembersOf,
} from '../../../db/repositories/tasks.js';
import { dagdeelOf } from '../../../workflows/ddas.js';
import { requireUser, type SessionUser, userOf } from '../../auth/index.js';
import type { ServerDependencies } from '../../server.js';
import {
  caseView,
  type FormValues,
  inboxView,
  taskFormView,
  visitListView,
} from '../../web/caseworker-views.js';
import { formatDate } from '../../web/format.js';
import type { SafeHtml } from '../../web/html.js';
import { html, page } from '../../web/layout.js';
import { CASEWORK_ROLES } from './api.js';
import { type ActionResult, completeTaskUseCase, recordResidentContactUseCase } from './complete-task.js';
import { invalidateInboxCounts, loadInbox } from './inbox.js';
import {
  completeTaskBody,
  OBJECTION_HINT,
  OBJECTION_LABEL,
  objectionFromForm,
  outcomeFromForm,
  residentContactBody,
} from './outcomes.js';
import { inboxQuery, toInboxQuery } from './query.js';

const NOTICES: Record<string, { kind: 'ok' | 'error'; text: string }> = {
  opgepakt: { kind: 'ok', text: 'U heeft de taak opgepakt.' },
  vrijgegeven: { kind: 'ok', text: 'De taak is vrijgegeven.' },
  toegewezen: { kind: 'ok', text: 'De taak is toegewezen.' },
  vastgelegd: { kind: 'ok', text: 'De uitkomst is vastgelegd.' },
  bezet: { kind: 'error', text: 'Deze taak is al door een collega opgepakt.' },
  afgerond: { kind: 'error', text: 'Deze taak is al afgerond.' },
  geenteamlid: { kind: 'error', text: 'Deze medewerker hoort niet bij het team van deze taak.' },
};

const isLead = (u: SessionUser) => u.roles.includes('teamlead') || u.roles.includes('admin');

function noticeOf(request: FastifyRequest) {
  const key = (request.query as { melding?: string }).melding;
  return key ? (NOTICES[key] ?? null) : null;
}

function sendPage(reply: FastifyReply, code: number, html: string) {
  return reply.code(code).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

function notFound(request: FastifyRequest, reply: FastifyReply) {
  return sendPage(
    reply,
    404,
    page({
      title: 'Niet gevonden',
      user: request.user,
      body: html`<p class="utrecht-paragraph">Deze pagina bestaat niet, of hoort bij een ander team.</p>`,
    }),
  );
}

/** Only local paths as "back" targets. */
function backTo(body: Record<string, unknown>, fallback: string): string {
  const t = body.terug;
  return typeof t === 'string' && t.startsWith('/') && !t.startsWith('//') ? t : fallback;
}

function withNotice(path: string, key: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}melding=${key}`;
}

function formValues(body: Record<string, unknown>): FormValues {
  const out: FormValues = {};
  for (const k of [
    'reached',
    'dagdeel',
    'outcome',
    'consentDate',
    'consentReference',
    'recontactDate',
    'note',
    'channel',
    'objection',
  ]) {
    const v = body[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The checkbox that puts the resident on the objection register, with its hint. */
function objectionField(prefix: string, values: FormValues): SafeHtml {
  return html`<fieldset class="utrecht-form-fieldset vs-fieldset"><legend class="utrecht-form-fieldset__legend">Bezwaar tegen het delen van gegevens</legend>
  <div class="utrecht-form-field-description" id="${prefix}-objection-hint">${OBJECTION_HINT}</div>
  <div class="utrecht-form-field utrecht-form-field--checkbox vs-check"><input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" id="${prefix}-objection" name="objection" value="ja" aria-describedby="${prefix}-objection-hint"${values.objection === 'ja' ? html` checked` : ''}>
  <label class="utrecht-form-label utrecht-form-label--checkbox" for="${prefix}-objection">${OBJECTION_LABEL}</label></div>
</fieldset>`;
}

/** Tells the caseworker that the resident is on the objection register (and what that means). */
function objectionNotice(entry: ObjectionEntry | null): SafeHtml {
  if (!entry) return html``;
  const by = entry.source === 'visit' ? 'vastgelegd door een medewerker' : 'gemeld door een schuldeiser';
  return html`<section aria-labelledby="bezwaar" class="vs-section" id="bezwaarregister">
  <h2 class="utrecht-heading-2" id="bezwaar">Bezwaarregister</h2>
  <p class="utrecht-paragraph"><strong>Deze inwoner staat in het bezwaarregister:</strong> bezwaar tegen het delen van gegevens door schuldeisers, ${by} op ${formatDate(entry.recorded_at)}.
  Nieuwe signalen over deze inwoner leiden niet tot contact.</p>
</section>`;
}

/** Shows a form again with its values and a message (the task form or the case page). */
type RenderForm = (
  request: FastifyRequest,
  reply: FastifyReply,
  values: FormValues,
  error: string | null,
  code?: number,
) => Promise<FastifyReply>;

/**
 * Finishes a posted form: invalid input or a refusal shows the form again with the reason; an accepted
 * outcome (a Temporal Update) goes to the case page.
 */
async function submitAction<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  values: FormValues,
  parsed: { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[] }[] } },
  render: RenderForm,
  run: (body: T) => Promise<ActionResult>,
): Promise<FastifyReply> {
  if (!parsed.success) {
    return render(request, reply, values, formError(parsed.error.issues.map((i) => i.path.join('.'))), 422);
  }
  const result = await run(parsed.data);
  if (result.status === 'not-found') return notFound(request, reply);
  if (result.status !== 'ok')
    return render(request, reply, values, result.message, result.status === 'refused' ? 409 : 503);
  invalidateInboxCounts();
  return reply.redirect(`/zaken/${result.caseId}?melding=vastgelegd`, 303);
}

/** Registers the pages. */
export function registerCaseworkerPages(app: FastifyInstance, deps: ServerDependencies): void {
  const guard = { preHandler: requireUser(CASEWORK_ROLES) };
  // The same secret intake matches residents with, so an objection covers every key of the resident.
  const matchingSecret = deps.config.MATCHING_SECRET;

  // The start page depends on the role: caseworkers to their tasks, managers to the monitor.
  app.get('/', { preHandler: requireUser() }, async (request, reply) => {
    const roles = request.user?.roles ?? [];
    const works = CASEWORK_ROLES.some((r) => roles.includes(r));
    return reply.redirect(works ? '/taken' : '/beheer/monitor', 303);
  });

  app.get('/taken', guard, async (request, reply) => {
    const user = userOf(request);
    const parsed = inboxQuery.safeParse(request.query);
    const q = toInboxQuery(parsed.success ? parsed.data : inboxQuery.parse({}));
    const data = await loadInbox({ db: deps.db, teams: user.teams, username: user.username, ...q });
    const title = q.scope === 'mine' ? 'Mijn taken' : 'Teamtaken';
    return sendPage(
      reply,
      200,
      page({
        title,
        user,
        current: `/taken?scope=${q.scope}`,
        notice: parsed.success
          ? noticeOf(request)
          : { kind: 'error', text: 'Een filter was ongeldig en is genegeerd.' },
        body: inboxView(
          data,
          q,
          { username: user.username, csrfToken: user.csrfToken, isLead: isLead(user) },
          new Date(),
        ),
      }),
    );
  });

  for (const [path, key] of [
    ['oppakken', 'opgepakt'],
    ['vrijgeven', 'vrijgegeven'],
  ] as const) {
    app.post(`/taken/:id/${path}`, guard, async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as Record<string, unknown>;
      const result = await assignTask(deps.db, {
        id,
        teams: user.teams,
        assignTo: path === 'oppakken' ? user.username : null,
        allowedCurrent:
          path === 'oppakken' ? [null, user.username] : isLead(user) ? 'any' : [user.username, null],
      });
      if (result === 'not-found') return notFound(request, reply);
      invalidateInboxCounts();
      const back = backTo(body, '/taken?scope=mine');
      const notice = result === 'ok' ? key : result === 'not-open' ? 'afgerond' : 'bezet';
      return reply.redirect(withNotice(back, notice), 303);
    });
  }

  app.post(
    '/taken/:id/toewijzen',
    { preHandler: requireUser(['teamlead', 'admin']) },
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as Record<string, unknown>;
      const assignee = typeof body.assignee === 'string' ? body.assignee : '';
      const result = await reassignTask(deps.db, { id, teams: user.teams, assignee });
      if (result.status === 'not-found') return notFound(request, reply);
      if (result.status === 'not-member') return reply.redirect(`/taken/${id}?melding=geenteamlid`, 303);
      invalidateInboxCounts();
      return reply.redirect(
        withNotice(`/taken/${id}`, result.status === 'ok' ? 'toegewezen' : 'afgerond'),
        303,
      );
    },
  );

  async function renderTask(
    request: FastifyRequest,
    reply: FastifyReply,
    values: FormValues,
    error: string | null,
    code = 200,
  ) {
    const user = userOf(request);
    const { id } = request.params as { id: string };
    const task = await findTaskForTeams(deps.db, id, user.teams);
    if (!task) return notFound(request, reply);
    const found = await findCaseForTeams(deps.db, task.case_id, user.teams);
    // The form shows the resident only: not the whole case page's details.
    const r = found ? await residentOfCase(deps.db, found.case_key) : undefined;
    let reassign = html``;
    if (isLead(user) && task.status === 'open') {
      const members = await teamMembersOf(deps.db, task.team);
      reassign = html`<section aria-labelledby="toewijzen" class="vs-section"><h2 class="utrecht-heading-2" id="toewijzen">Toewijzen (teamleider)</h2>
      <form method="post" action="/taken/${task.id}/toewijzen" class="vs-form vs-row"><input type="hidden" name="_csrf" value="${user.csrfToken}">
      <div class="utrecht-form-field"><label class="utrecht-form-label" for="assignee">Medewerker</label>
      <select class="utrecht-select utrecht-select--html-select" id="assignee" name="assignee">${members.map((m) => html`<option value="${m.username}"${m.username === task.assigned_to ? html` selected` : ''}>${m.displayName}</option>`)}</select></div>
      <button type="submit" class="utrecht-button utrecht-button--secondary-action">Toewijzen</button></form></section>`;
    }
    const title = `${task.kind === 'visit' ? 'Huisbezoek' : 'Telefoongesprek'} vastleggen`;
    return sendPage(
      reply,
      code,
      page({
        title,
        user,
        notice: noticeOf(request),
        body: html`${taskFormView({
          task,
          residentName: r ? fullName(r) : null,
          address: r
            ? `${r.street} ${r.house_number}${r.house_number_addition ? ` ${r.house_number_addition}` : ''}, ${r.postcode} ${r.city}`
            : '',
          phone: r?.phone ?? null,
          csrfToken: user.csrfToken,
          submissionId: typeof values.submissionId === 'string' ? values.submissionId : randomUUID(),
          dagdeel: dagdeelOf(Date.now()),
          values,
          error,
          extraFields: objectionField('taak', values),
        })}${reassign}`,
      }),
    );
  }

  app.get('/taken/:id', guard, async (request, reply) => renderTask(request, reply, {}, null));

  app.post('/taken/:id/afronden', guard, async (request, reply) => {
    const user = userOf(request);
    const { id } = request.params as { id: string };
    const form = (request.body ?? {}) as Record<string, unknown>;
    const values = {
      ...formValues(form),
      submissionId: typeof form.submissionId === 'string' ? form.submissionId : undefined,
    };
    const reached = form.reached === 'ja' ? true : form.reached === 'nee' ? false : undefined;
    if (reached === undefined)
      return renderTask(request, reply, values, 'Kies of u de inwoner heeft gesproken.', 422);
    const parsed = completeTaskBody.safeParse({
      reached,
      dagdeel: form.dagdeel,
      outcome: reached ? outcomeFromForm(form) : undefined,
      note: typeof form.note === 'string' ? form.note : undefined,
      submissionId: values.submissionId,
      objection: objectionFromForm(form),
    });
    return submitAction(request, reply, values, parsed, renderTask, (body) =>
      completeTaskUseCase({ db: deps.db, temporal: deps.temporal, user, taskId: id, body, matchingSecret }),
    );
  });

  async function renderCase(
    request: FastifyRequest,
    reply: FastifyReply,
    values: FormValues,
    error: string | null,
    code = 200,
  ) {
    const user = userOf(request);
    const { id } = request.params as { id: string };
    const found = await findCaseForTeams(deps.db, id, user.teams);
    if (!found) return notFound(request, reply);
    const details = await caseDetails(deps.db, found, { secret: matchingSecret });
    return sendPage(
      reply,
      code,
      page({
        title: details.resident ? `Zaak van ${fullName(details.resident)}` : 'Zaak',
        user,
        notice: noticeOf(request),
        body: html`${objectionNotice(details.objection)}${caseView({
          c: found,
          details,
          csrfToken: user.csrfToken,
          submissionId: values.submissionId ?? randomUUID(),
          dagdeel: dagdeelOf(Date.now()),
          values,
          error,
          extraFields: objectionField('contact', values),
        })}`,
      }),
    );
  }

  app.get('/zaken/:id', guard, async (request, reply) => renderCase(request, reply, {}, null));

  app.post('/zaken/:id/contact', guard, async (request, reply) => {
    const user = userOf(request);
    const { id } = request.params as { id: string };
    const form = (request.body ?? {}) as Record<string, unknown>;
    const values = {
      ...formValues(form),
      submissionId: typeof form.submissionId === 'string' ? form.submissionId : undefined,
    };
    const parsed = residentContactBody.safeParse({
      channel: form.channel,
      dagdeel: form.dagdeel,
      outcome: outcomeFromForm(form),
      submissionId: values.submissionId,
      objection: objectionFromForm(form),
    });
    return submitAction(request, reply, values, parsed, renderCase, (body) =>
      recordResidentContactUseCase({
        db: deps.db,
        temporal: deps.temporal,
        user,
        caseId: id,
        body,
        matchingSecret,
      }),
    );
  });

  app.get('/huisbezoeken', guard, async (request, reply) => {
    const user = userOf(request);
    const now = new Date();
    const endOfDay = new Date(now);
    endOfDay.setHours(24, 0, 0, 0);
    const endOfWeek = new Date(endOfDay);
    endOfWeek.setDate(endOfWeek.getDate() + ((7 - endOfWeek.getDay()) % 7) + 1);
    const rows = await listVisits(deps.db, user.teams, endOfWeek);
    const today = rows.filter((r) => r.due_at < endOfDay);
    const week = rows.filter((r) => r.due_at >= endOfDay);
    return sendPage(
      reply,
      200,
      page({ title: 'Huisbezoeken', user, current: '/huisbezoeken', body: visitListView(today, week) }),
    );
  });
}

/** A Dutch sentence naming the fields that need attention. */
function formError(paths: string[]): string {
  const names: Record<string, string> = {
    outcome: 'de uitkomst van het gesprek',
    'outcome.kind': 'de uitkomst van het gesprek',
    'outcome.consentDate': 'de datum van het toestemmingsformulier',
    'outcome.consentReference': 'het kenmerk van het toestemmingsformulier',
    'outcome.recontactDate': 'de datum voor opnieuw contact',
    channel: 'hoe de inwoner contact opnam',
    dagdeel: 'het dagdeel',
    note: 'de notitie (te lang)',
    objection: 'het bezwaar (alleen als u de inwoner sprak en die geen hulp of later contact wil)',
  };
  const fields = [...new Set(paths.map((p) => names[p] ?? 'de invoer'))];
  return `Vul ${fields.join(', ')} in of verbeter dit.`;
}
