/**
 * The monitor dashboard for managers: the figures of `GET /api/v1/monitor` for a month, quarter or year
 * (and optionally one partner type), with charts next to the numbers and a CSV download of every table.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SIGNAALPARTNERS } from '../../../workflows/ddas.js';
import { MANAGER_ROLES, requireUser, userOf } from '../../auth/index.js';
import type { ServerDependencies } from '../../server.js';
import { barChart, lineChart } from '../../web/charts.js';
import { addNavItem, html, page, raw, type SafeHtml } from '../../web/layout.js';
import { inhabitantsOf } from '../managers/monitor.js';
import { type MonitorFigures, monitorFigures } from '../managers/monitor-figures.js';

const MONTHS = ['jan', 'feb', 'mrt', 'apr', 'mei', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'dec'];

const query = z.object({
  period: z.enum(['month', 'quarter', 'year']).default('year'),
  year: z.coerce.number().int().min(2021).max(2100).optional(),
  index: z.coerce.number().int().min(1).max(12).optional(),
  partnerType: z.enum(SIGNAALPARTNERS).or(z.literal('')).optional(),
});

/** The first and last day of a month (index 1-12), quarter (1-4) or year. */
export function periodRange(
  period: 'month' | 'quarter' | 'year',
  year: number,
  index: number,
): { from: string; to: string } {
  const pad = (n: number) => String(n).padStart(2, '0');
  const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (period === 'year') return { from: `${year}-01-01`, to: `${year}-12-31` };
  const first = period === 'month' ? index : (index - 1) * 3 + 1;
  const last = period === 'month' ? index : first + 2;
  return { from: `${year}-${pad(first)}-01`, to: `${year}-${pad(last)}-${pad(lastDay(year, last))}` };
}

const pct = (v: number | null) => (v === null ? '–' : `${v.toLocaleString('nl-NL')}%`);
const num = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v.toLocaleString('nl-NL');

function table(caption: string, head: string[], rows: Array<Array<string | number>>, csv: string): SafeHtml {
  return html`<table class="utrecht-table vs-figures">
    <caption class="utrecht-table__caption">${caption} <a class="utrecht-link" href="${csv}">CSV</a></caption>
    <thead class="utrecht-table__header"><tr class="utrecht-table__row">${head.map((h) => html`<th class="utrecht-table__header-cell" scope="col">${h}</th>`)}</tr></thead>
    <tbody class="utrecht-table__body">${rows.map((r) => html`<tr class="utrecht-table__row">${r.map((c) => html`<td class="utrecht-table__cell">${typeof c === 'number' ? num(c) : c}</td>`)}</tr>`)}</tbody>
  </table>`;
}

function dashboardBody(f: MonitorFigures, csvQuery: string): SafeHtml {
  const csv = (t: string) => `/api/v1/monitor/${t}.csv?${csvQuery}`;
  const s = f.signals;
  const c = f.cases;
  const cards: Array<[string, string]> = [
    ['Signalen ontvangen', num(s.received)],
    ['Unieke inwoners', num(s.uniqueResidents)],
    ['Unieke huishoudens', num(s.uniqueHouseholds)],
    ['Opgepakt', num(s.pickedUp)],
    ['Niet opgepakt', num(s.notPickedUp)],
    ['Bereikt', pct(c.reachedPct)],
    ['Hulp geaccepteerd', pct(c.helpAcceptedPct)],
    ['Mediaan dagen tot eerste contact', num(c.medianDaysToFirstContact)],
  ];
  return html`
    <ul class="vs-cards" data-testid="key-figures">
      ${cards.map(([label, value]) => html`<li><span class="vs-card-value">${value}</span> <span class="vs-card-label">${label}</span></li>`)}
    </ul>
    ${
      f.ratesPer1000
        ? html`<p class="utrecht-paragraph">Per 1.000 inwoners (${num(f.inhabitants)}): ${num(f.ratesPer1000.signals)} signalen, ${num(f.ratesPer1000.residents)} inwoners, ${num(f.ratesPer1000.reached)} bereikt, ${num(f.ratesPer1000.helpAccepted)} met hulp.</p>`
        : html`<p class="utrecht-paragraph">Stel MUNICIPALITY_INHABITANTS in voor cijfers per 1.000 inwoners.</p>`
    }
    <h2 class="utrecht-heading-2">Signalen per maand</h2>
    ${lineChart(
      'Signalen per maand',
      f.perMonth.map((m) => ({
        label: `${MONTHS[Number(m.month.slice(5, 7)) - 1]} ${m.month.slice(2, 4)}`,
        value: m.signals,
      })),
    )}
    ${table(
      'Signalen per maand',
      ['Maand', 'Signalen', 'Inwoners', 'Opgepakt'],
      f.perMonth.map((m) => [m.month, m.signals, m.residents, m.pickedUp]),
      csv('per-month'),
    )}
    <h2 class="utrecht-heading-2">Contactpogingen per soort</h2>
    ${barChart(
      'Contactpogingen per soort (donker: bereikt)',
      f.contactAttempts
        .filter((a) => a.attempts > 0)
        .map((a) => ({ label: a.soort, value: a.attempts, part: a.reached })),
      { partLabel: 'bereikt' },
    )}
    ${table(
      'Contactpogingen',
      ['Soort', 'Pogingen', 'Bereikt', 'Bereikt %'],
      f.contactAttempts.map((a) => [a.soort, a.attempts, a.reached, pct(a.reachedPct)]),
      csv('contact-attempts'),
    )}
    <h2 class="utrecht-heading-2">Resultaten</h2>
    <p class="utrecht-paragraph">Een zaak is één ronde van benadering (DDAS-vroegsignaalzaak): vanaf het signaal dat haar start tot haar resultaat. Krijgt een inwoner daarna een nieuw signaal dat wordt opgepakt, dan is dat een nieuwe zaak. Zaken tellen in de periode waarin ze begonnen.</p>
    ${barChart(
      'Zaken per eindresultaat',
      f.results.filter((r) => r.count > 0).map((r) => ({ label: r.result, value: r.count })),
    )}
    ${table(
      'Resultaten',
      ['Eindresultaat', 'Zaken', 'Hulp geaccepteerd'],
      f.results.map((r) => [r.result, r.count, r.helpAccepted ? 'ja' : 'nee']),
      csv('results'),
    )}
    <h2 class="utrecht-heading-2">Signalen per status en per partner</h2>
    ${table(
      'Signalen per status',
      ['Status', 'Aantal'],
      f.signalsByStatus.map((r) => [r.status, r.count]),
      csv('signals-by-status'),
    )}
    ${table(
      'Signalen per partnertype',
      ['Partner', 'Ontvangen', 'Opgepakt', 'Niet opgepakt', 'Nog niet opgepakt'],
      f.signalsByPartnerType.map((r) => [r.partnerType, r.received, r.pickedUp, r.notPickedUp, r.pending]),
      csv('signals-by-partner-type'),
    )}
    <p class="utrecht-paragraph"><a class="utrecht-link" href="${csv('summary')}">Kerncijfers als CSV</a> · <a class="utrecht-link" href="/api/v1/monitor?${csvQuery}">Alle cijfers als JSON</a></p>`;
}

export function registerDashboardRoutes(app: FastifyInstance, deps: ServerDependencies): void {
  addNavItem({ href: '/beheer/monitor', label: 'Monitor', roles: [...MANAGER_ROLES] });
  const inhabitants = inhabitantsOf(
    deps.config.MUNICIPALITY_INHABITANTS,
    deps.municipality,
    deps.municipality,
  );

  app.get('/beheer/monitor', { preHandler: requireUser(MANAGER_ROLES) }, async (request, reply) => {
    const parsed = query.safeParse(request.query);
    const q = parsed.success ? parsed.data : query.parse({});
    const now = new Date();
    const year = q.year ?? now.getFullYear();
    const defaultIndex = q.period === 'quarter' ? Math.floor(now.getMonth() / 3) + 1 : now.getMonth() + 1;
    const index = Math.min(q.index ?? defaultIndex, q.period === 'quarter' ? 4 : 12);
    const { from, to } = periodRange(q.period, year, index);
    const partnerType = q.partnerType || undefined;
    const figures = await monitorFigures(
      deps.db,
      { municipality: deps.municipality, from, to, partnerType },
      inhabitants,
    );
    const csvQuery = new URLSearchParams({ from, to, ...(partnerType ? { partnerType } : {}) }).toString();
    const opt = (value: string | number, label: string, current: string | number | undefined) =>
      html`<option value="${value}" ${String(current) === String(value) ? raw('selected') : ''}>${label}</option>`;
    const body = html`
      <form class="vs-filters" method="get" action="/beheer/monitor">
        <label>Periode <select name="period">${opt('month', 'Maand', q.period)}${opt('quarter', 'Kwartaal', q.period)}${opt('year', 'Jaar', q.period)}</select></label>
        <label>Jaar <input name="year" type="number" min="2021" max="2100" value="${year}"></label>
        <label>Maand of kwartaal <input name="index" type="number" min="1" max="12" value="${index}"></label>
        <label>Partner <select name="partnerType">${opt('', 'Alle', partnerType ?? '')}${SIGNAALPARTNERS.map((p) => opt(p, p, partnerType))}</select></label>
        <button class="utrecht-button utrecht-button--secondary-action" type="submit">Toon</button>
      </form>
      <p class="utrecht-paragraph">Periode ${from} tot en met ${to}${partnerType ? `, partner ${partnerType}` : ''}.</p>
      ${dashboardBody(figures, csvQuery)}`;
    return reply
      .type('text/html; charset=utf-8')
      .send(
        page({ title: 'Monitor vroegsignalering', body, user: userOf(request), current: '/beheer/monitor' }),
      );
  });
}
