/**
 * Managers' view of what happened: the case list (read model, filters, paged) and each case's history
 * as a Dutch timeline with the statechart marked, the raw events, a JSON download and a link to the
 * same workflow in the Temporal Web UI. `GET /api/v1/cases/:id/history` returns the timeline as JSON.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { toMermaidOverview } from '../../../scripts/statechart-mermaid.js';
import { EINDRESULTATEN } from '../../../workflows/ddas.js';
import {
  caseTeamsOf,
  MANAGER_ROLES,
  requireUser,
  type SessionUser,
  seesResidentName,
  userOf,
} from '../../auth/index.js';
import { buildCaseHistory } from '../../history/timeline.js';
import type { ServerDependencies } from '../../server.js';
import { formatDateTime, PRIORITY_LABELS, STAGE_LABELS } from '../../web/format.js';
import { addNavItem, html, page, raw, teamName } from '../../web/layout.js';

const PAGE_SIZE = 50;

const listQuery = z.object({
  stage: z.string().max(40).optional(),
  team: z.string().max(40).optional(),
  partnerType: z.string().max(40).optional(),
  result: z.string().max(80).optional(),
  overdue: z.enum(['1']).optional(),
  /** Only cases started at least this many days ago. */
  minAgeDays: z.coerce.number().int().min(1).max(3650).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});
const idParams = z.object({ id: z.string().uuid() });

/** The machine's diagram with the states a case passed through marked. */
function markedDiagram(visited: string[]): string {
  const ids = [...new Set(visited)].filter((s) => /^[a-zA-Z]+$/.test(s));
  const lines = [
    toMermaidOverview(STAGE_LABELS),
    '  classDef visited fill:#d6ecd2,stroke:#2b7a0b,stroke-width:3px,color:#000',
  ];
  if (ids.length) lines.push(`  class ${ids.join(',')} visited`);
  return lines.join('\n');
}

export async function registerHistoryRoutes(app: FastifyInstance, deps: ServerDependencies): Promise<void> {
  addNavItem({ href: '/beheer/zaken', label: 'Zaken (beheer)', roles: [...MANAGER_ROLES] });
  const mermaidFile = createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');
  app.get('/assets/mermaid.min.js', async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=86400')
      .type('text/javascript; charset=utf-8')
      .send(await readFile(mermaidFile)),
  );

  app.get('/assets/mermaid-init.js', async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .send("mermaid.initialize({ startOnLoad: true, securityLevel: 'strict' });\n"),
  );

  /** The case, if this user may see it: a team lead only their teams' cases (another team's: not found). */
  const findCase = async (id: string, user: SessionUser) => {
    const row = await deps.db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
    const teams = caseTeamsOf(user);
    return row && (teams === null || (teams as readonly string[]).includes(row.team)) ? row : undefined;
  };

  app.get('/api/v1/cases/:id/history', { preHandler: requireUser(MANAGER_ROLES) }, async (request, reply) => {
    const params = idParams.safeParse(request.params);
    const row = params.success ? await findCase(params.data.id, userOf(request)) : undefined;
    if (!row) return reply.code(404).send({ error: 'Zaak niet gevonden' });
    const history = await buildCaseHistory(deps.temporal, deps.db, row.workflow_id, row.id);
    if ((request.query as Record<string, string>)?.download === '1') {
      reply.header('content-disposition', `attachment; filename="zaak-${row.id}-geschiedenis.json"`);
    }
    return reply.send(history);
  });

  app.get('/beheer/zaken', { preHandler: requireUser(MANAGER_ROLES) }, async (request, reply) => {
    const parsed = listQuery.safeParse(request.query);
    const q = parsed.success ? parsed.data : listQuery.parse({});
    let query = deps.db.selectFrom('cases');
    const teams = caseTeamsOf(userOf(request));
    if (teams !== null) query = query.where('team', 'in', teams.length > 0 ? [...teams] : ['']);
    if (q.stage) query = query.where('stage', '=', q.stage);
    if (q.team) query = query.where('team', '=', q.team);
    if (q.result) query = query.where('result', '=', q.result);
    if (q.partnerType)
      query = query.where((eb) => eb(eb.val(q.partnerType), '=', eb.fn.any('partner_types')));
    if (q.minAgeDays) {
      query = query.where('started_at', '<=', new Date(Date.now() - q.minAgeDays * 86_400_000));
    }
    if (q.overdue) {
      query = query
        .where('closed_at', 'is', null)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('tasks')
              .select('tasks.id')
              .whereRef('tasks.case_id', '=', 'cases.id')
              .where('tasks.status', '=', 'open')
              .where('tasks.due_at', '<', new Date()),
          ),
        );
    }
    const [{ total }] = [
      await query.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
    ];
    const rows = await query
      .select([
        'id',
        'stage',
        'team',
        'priority',
        'partner_types',
        'result',
        'started_at',
        'next_deadline',
        'closed_at',
      ])
      .orderBy('started_at', 'desc')
      .limit(PAGE_SIZE)
      .offset((q.page - 1) * PAGE_SIZE)
      .execute();
    const pages = Math.max(1, Math.ceil(Number(total) / PAGE_SIZE));
    const keep = new URLSearchParams(
      Object.entries(q).filter(([k, v]) => k !== 'page' && v !== undefined) as [string, string][],
    );
    const option = (value: string, label: string, current: string | undefined) =>
      html`<option value="${value}" ${current === value ? raw('selected') : ''}>${label}</option>`;
    const body = html`
      <form class="vs-filters" method="get" action="/beheer/zaken">
        <label>Stap <select name="stage">${option('', 'Alle', q.stage)}${Object.entries(STAGE_LABELS).map(([v, l]) => option(v, l, q.stage))}</select></label>
        <label>Team <select name="team">${option('', 'Alle', q.team)}${option('schulddienstverlening', teamName('schulddienstverlening'), q.team)}${option('wijkteam', teamName('wijkteam'), q.team)}</select></label>
        <label>Partner <select name="partnerType">${option('', 'Alle', q.partnerType)}${['Huur', 'Zorg', 'CAK Zorgverzekeringen', 'Water', 'Energie'].map((p) => option(p, p, q.partnerType))}</select></label>
        <label>Resultaat <select name="result">${option('', 'Alle', q.result)}${EINDRESULTATEN.map((r) => option(r, r, q.result))}</select></label>
        <label>Ouder dan <select name="minAgeDays">${option('', 'elke leeftijd', q.minAgeDays ? String(q.minAgeDays) : '')}${[30, 90, 180, 365].map((d) => option(String(d), `${d} dagen`, q.minAgeDays ? String(q.minAgeDays) : ''))}</select></label>
        <label><input type="checkbox" name="overdue" value="1" ${q.overdue ? raw('checked') : ''}> Alleen met verlopen taak</label>
        <button class="utrecht-button utrecht-button--secondary-action" type="submit">Filter</button>
      </form>
      <p class="utrecht-paragraph">${Number(total).toLocaleString('nl-NL')} zaken, pagina ${q.page} van ${pages}.</p>
      <table class="utrecht-table">
        <thead class="utrecht-table__header"><tr class="utrecht-table__row">
          <th class="utrecht-table__header-cell" scope="col">Gestart</th>
          <th class="utrecht-table__header-cell" scope="col">Stap</th>
          <th class="utrecht-table__header-cell" scope="col">Team</th>
          <th class="utrecht-table__header-cell" scope="col">Partners</th>
          <th class="utrecht-table__header-cell" scope="col">Prioriteit</th>
          <th class="utrecht-table__header-cell" scope="col">Resultaat</th>
          <th class="utrecht-table__header-cell" scope="col">Volgende stap</th>
        </tr></thead>
        <tbody class="utrecht-table__body">
          ${rows.map(
            (r) => html`<tr class="utrecht-table__row">
              <td class="utrecht-table__cell"><a class="utrecht-link" href="/beheer/zaken/${r.id}">${formatDateTime(r.started_at)}</a></td>
              <td class="utrecht-table__cell">${STAGE_LABELS[r.stage] ?? r.stage}</td>
              <td class="utrecht-table__cell">${teamName(r.team)}</td>
              <td class="utrecht-table__cell">${r.partner_types.join(', ')}</td>
              <td class="utrecht-table__cell">${PRIORITY_LABELS[r.priority] ?? r.priority}</td>
              <td class="utrecht-table__cell">${r.result ?? '–'}</td>
              <td class="utrecht-table__cell">${r.next_deadline ? formatDateTime(r.next_deadline) : '–'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <nav aria-label="Paginering" class="vs-pager">
        ${q.page > 1 ? html`<a class="utrecht-link" href="/beheer/zaken?${keep.toString()}&page=${q.page - 1}">Vorige</a>` : ''}
        ${q.page < pages ? html`<a class="utrecht-link" href="/beheer/zaken?${keep.toString()}&page=${q.page + 1}">Volgende</a>` : ''}
      </nav>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(page({ title: 'Zaken', body, user: userOf(request), current: '/beheer/zaken' }));
  });

  app.get('/beheer/zaken/:id', { preHandler: requireUser(MANAGER_ROLES) }, async (request, reply) => {
    const params = idParams.safeParse(request.params);
    const user = userOf(request);
    const row = params.success ? await findCase(params.data.id, user) : undefined;
    if (!row) {
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(
          page({
            title: 'Zaak niet gevonden',
            body: html`<p class="utrecht-paragraph">Deze zaak bestaat niet, of hoort bij een ander team.</p>`,
            user: userOf(request),
          }),
        );
    }
    const history = await buildCaseHistory(deps.temporal, deps.db, row.workflow_id, row.id);
    const showName = seesResidentName(user, row.team);
    const resident =
      row.personal_data_deleted_at || !showName
        ? null
        : await deps.db
            .selectFrom('residents')
            .select(['first_names', 'surname_prefix', 'surname'])
            .where('case_key', '=', row.case_key)
            .executeTakeFirst();
    const uiBase = deps.temporalUiUrl;
    const uiLink = uiBase
      ? `${uiBase}/namespaces/default/workflows/${encodeURIComponent(row.workflow_id)}/${history.runs.at(-1)}/history`
      : null;
    const body = html`
      <p class="utrecht-paragraph">
        ${
          resident
            ? html`Inwoner: <strong>${[resident.first_names, resident.surname_prefix, resident.surname].filter(Boolean).join(' ')}</strong>. `
            : row.personal_data_deleted_at
              ? html`De persoonsgegevens van deze zaak zijn verwijderd; de geschiedenis blijft leesbaar. `
              : html`De naam van de inwoner ziet alleen het team dat de zaak behandelt. `
        }
        Stap nu: <strong>${STAGE_LABELS[row.stage] ?? row.stage}</strong>${row.result ? html`, resultaat: <strong>${row.result}</strong>` : ''}.
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-link" href="/api/v1/cases/${row.id}/history?download=1">Geschiedenis downloaden (JSON)</a>
        ${uiLink ? html` · <a class="utrecht-link" href="${uiLink}">Bekijken in de Temporal Web UI</a>` : ''}
      </p>
      <h2 class="utrecht-heading-2">Tijdlijn</h2>
      <ol class="utrecht-ordered-list vs-timeline" data-testid="timeline">
        ${history.entries.map(
          (
            e,
          ) => html`<li data-kind="${e.kind}"><time datetime="${e.at}">${formatDateTime(new Date(e.at))}</time> ${e.text}
            ${e.stage ? html`<span class="vs-stage">(stap: ${STAGE_LABELS[e.stage] ?? e.stage})</span>` : ''}</li>`,
        )}
      </ol>
      <h2 class="utrecht-heading-2">Doorlopen stappen in het stroomschema</h2>
      <p class="utrecht-paragraph">Groen omrand: de stappen die deze zaak heeft doorlopen.</p>
      <pre class="mermaid" data-testid="statechart">${markedDiagram(history.stagesVisited)}</pre>
      <details>
        <summary>Ruwe gebeurtenissen uit Temporal (${history.rawEvents.length})</summary>
        <pre class="vs-raw">${JSON.stringify(history.rawEvents, null, 2)}</pre>
      </details>
      <script src="/assets/mermaid.min.js"></script>
      <script src="/assets/mermaid-init.js"></script>`;
    return reply
      .type('text/html; charset=utf-8')
      .send(
        page({ title: 'Geschiedenis van de zaak', body, user: userOf(request), current: '/beheer/zaken' }),
      );
  });
}
