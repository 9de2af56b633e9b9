/** The caseworker pages' HTML: inbox, task form, case page, visit list. Rendering only, no I/O. */

import type { InboxRow } from '../../db/repositories/tasks.js';
import type { Case } from '../../db/tables/cases.table.js';
import type { ContactColumns } from '../../db/tables/residents.table.js';
import { SIGNAL_CLASSIFICATION_LABELS, type SignalClassification } from '../../db/tables/signals.table.js';
import type { Task } from '../../db/tables/tasks.table.js';
import { END_STAGES, OUTCOME_KINDS } from '../../workflows/case-machine.js';
import { DAGDELEN, type Dagdeel } from '../../workflows/ddas.js';
import type { InboxPage } from '../routes/caseworkers/inbox.js';
import { CONTACT_CHANNELS, OUTCOME_LABELS } from '../routes/caseworkers/outcomes.js';
import type { ParsedInboxQuery } from '../routes/caseworkers/query.js';
import {
  addressLine,
  formatAmount,
  formatDate,
  formatDateTime,
  KIND_LABELS,
  PRIORITY_LABELS,
  STAGE_LABELS,
  TASK_OUTCOME_LABELS,
  TEMPLATE_LABELS,
} from './format.js';
import { html, type SafeHtml } from './html.js';
import { teamName } from './layout.js';

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

function address(r: {
  street: string | null;
  houseNumber: number | null;
  houseNumberAddition: string | null;
  postcode: string | null;
  city: string | null;
}): string {
  if (!r.street) return '(gegevens verwijderd)';
  return `${r.street} ${r.houseNumber ?? ''}${r.houseNumberAddition ? ` ${r.houseNumberAddition}` : ''}, ${r.postcode ?? ''} ${r.city ?? ''}`;
}

function option(value: string, label: string, selected: boolean): SafeHtml {
  return html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
}

function queryString(
  q: ParsedInboxQuery,
  overrides: Record<string, string | number | undefined> = {},
): string {
  const params = new URLSearchParams();
  const values: Record<string, string | number | undefined> = {
    scope: q.scope,
    kind: q.filter.kind,
    area: q.filter.area,
    partnerType: q.filter.partnerType,
    crisis: q.filter.crisis === undefined ? undefined : q.filter.crisis ? 'ja' : 'nee',
    unassigned: q.filter.unassigned ? 'ja' : undefined,
    page: q.page,
    ...overrides,
  };
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') params.set(k, String(v));
  return params.toString();
}

export interface InboxViewUser {
  username: string;
  csrfToken: string;
  isLead: boolean;
}

/** The inbox: filters with counts, the table of tasks, paging. */
export function inboxView(data: InboxPage, q: ParsedInboxQuery, user: InboxViewUser, now: Date): SafeHtml {
  const c = data.counts;
  const n = (v: number | undefined) => ` (${v ?? 0})`;
  const areas = Object.keys(c.area).sort();
  const partners = Object.keys(c.partnerType).sort();
  const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
  const filters = html`<form method="get" action="/taken" class="vs-filters" aria-label="Filters">
  <input type="hidden" name="scope" value="${q.scope}">
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-kind">Soort taak</label>
    <select class="utrecht-select utrecht-select--html-select" id="f-kind" name="kind">
      ${option('', 'Alle', !q.filter.kind)}
      ${option('phone', `Bellen${n(c.kind.phone)}`, q.filter.kind === 'phone')}
      ${option('visit', `Huisbezoek${n(c.kind.visit)}`, q.filter.kind === 'visit')}
    </select></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-area">Wijk (postcode)</label>
    <select class="utrecht-select utrecht-select--html-select" id="f-area" name="area">
      ${option('', 'Alle', !q.filter.area)}
      ${areas.filter((a) => /^\d{4}$/.test(a)).map((a) => option(a, `${a}${n(c.area[a])}`, q.filter.area === a))}
    </select></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-partner">Soort partner</label>
    <select class="utrecht-select utrecht-select--html-select" id="f-partner" name="partnerType">
      ${option('', 'Alle', !q.filter.partnerType)}
      ${partners.map((p) => option(p, `${p}${n(c.partnerType[p])}`, q.filter.partnerType === p))}
    </select></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-crisis">Crisis</label>
    <select class="utrecht-select utrecht-select--html-select" id="f-crisis" name="crisis">
      ${option('', 'Alle', q.filter.crisis === undefined)}
      ${option('ja', `Alleen crisis${n(c.crisis.ja)}`, q.filter.crisis === true)}
      ${option('nee', `Geen crisis${n(c.crisis.nee)}`, q.filter.crisis === false)}
    </select></div>
  ${
    q.scope === 'team'
      ? html`<div class="utrecht-form-field vs-check"><input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" id="f-unassigned" name="unassigned" value="ja"${q.filter.unassigned ? html` checked` : ''}>
    <label class="utrecht-form-label utrecht-form-label--checkbox" for="f-unassigned">Alleen niet opgepakt${n(c.unassigned)}</label></div>`
      : ''
  }
  <button type="submit" class="utrecht-button utrecht-button--secondary-action">Filter toepassen</button>
</form>`;

  const rows = data.items.map((t) => taskRow(t, user, now, q));
  const table = data.items.length
    ? html`<div class="utrecht-table-container"><table class="utrecht-table vs-table">
  <caption class="utrecht-table__caption">${data.total} open ${data.total === 1 ? 'taak' : 'taken'}, eerst de taak die het eerst af moet (pagina ${data.page} van ${pages})</caption>
  <thead class="utrecht-table__header"><tr class="utrecht-table__row">
    <th class="utrecht-table__header-cell" scope="col">Uiterlijk</th>
    <th class="utrecht-table__header-cell" scope="col">Taak</th>
    <th class="utrecht-table__header-cell" scope="col">Inwoner</th>
    <th class="utrecht-table__header-cell" scope="col">Adres</th>
    <th class="utrecht-table__header-cell" scope="col">Signalen</th>
    <th class="utrecht-table__header-cell" scope="col">Opgepakt door</th>
    <th class="utrecht-table__header-cell" scope="col">Acties</th>
  </tr></thead>
  <tbody class="utrecht-table__body">${rows}</tbody></table></div>`
    : html`<p class="utrecht-paragraph">Er zijn geen open taken${q.scope === 'mine' ? ' voor u' : ''} met deze filters.</p>`;
  const paging =
    pages > 1
      ? html`<nav aria-label="Paginering" class="vs-paging"><ul class="vs-paging__list">
  ${data.page > 1 ? html`<li><a class="utrecht-link" href="/taken?${queryString(q, { page: data.page - 1 })}">Vorige pagina</a></li>` : ''}
  <li aria-current="page">Pagina ${data.page} van ${pages}</li>
  ${data.page < pages ? html`<li><a class="utrecht-link" href="/taken?${queryString(q, { page: data.page + 1 })}">Volgende pagina</a></li>` : ''}
</ul></nav>`
      : '';
  return html`${filters}${table}${paging}`;
}

function taskRow(t: InboxRow, user: InboxViewUser, now: Date, q: ParsedInboxQuery): SafeHtml {
  const overdue = t.dueAt.getTime() < now.getTime();
  const back = `/taken?${queryString(q)}`;
  const name = t.residentName ?? '(gegevens verwijderd)';
  const mine = t.assignedTo === user.username;
  const action = (path: string, label: string, primary = false) =>
    html`<form method="post" action="/taken/${t.id}/${path}" class="vs-inline-form">${csrfField(user.csrfToken)}<input type="hidden" name="terug" value="${back}">
      <button type="submit" class="utrecht-button utrecht-button--${primary ? 'primary' : 'secondary'}-action">${label}<span class="vs-visually-hidden">: ${KIND_LABELS[t.kind]} ${name}</span></button></form>`;
  return html`<tr class="utrecht-table__row${overdue ? ' vs-overdue' : ''}">
  <td class="utrecht-table__cell">${formatDate(t.dueAt)}${overdue ? html` <strong class="vs-badge vs-badge--overdue">Te laat</strong>` : ''}</td>
  <td class="utrecht-table__cell">${KIND_LABELS[t.kind]} (poging ${t.attempt})${t.priority !== 'normal' ? html` <strong class="vs-badge vs-badge--${t.priority}">${PRIORITY_LABELS[t.priority] ?? t.priority}</strong>` : ''}${t.preferredDagdeel ? html`<br><span class="vs-muted">bij voorkeur ${t.preferredDagdeel.toLowerCase()}</span>` : ''}</td>
  <td class="utrecht-table__cell"><a class="utrecht-link" href="/zaken/${t.caseId}">${name}</a>${t.phone && t.kind === 'phone' ? html`<br><span class="vs-muted">tel. ${t.phone}</span>` : ''}</td>
  <td class="utrecht-table__cell">${address(t)}</td>
  <td class="utrecht-table__cell">${t.partnerTypes.join(', ')}</td>
  <td class="utrecht-table__cell">${t.assignedTo ? (mine ? 'U' : t.assignedTo) : html`<span class="vs-muted">Nog niemand</span>`}</td>
  <td class="utrecht-table__cell vs-actions">
    ${!t.assignedTo ? action('oppakken', 'Oppakken') : ''}
    ${mine || (t.assignedTo && user.isLead) ? action('vrijgeven', 'Vrijgeven') : ''}
    ${!t.assignedTo || mine || user.isLead ? html`<a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action" href="/taken/${t.id}">Uitkomst vastleggen<span class="vs-visually-hidden">: ${KIND_LABELS[t.kind]} ${name}</span></a>` : ''}
  </td></tr>`;
}

function radio(
  name: string,
  value: string,
  label: string,
  checked: boolean,
  id: string,
  extra?: SafeHtml,
): SafeHtml {
  return html`<div class="utrecht-form-field utrecht-form-field--radio"><input class="utrecht-radio-button utrecht-radio-button--html-input" type="radio" id="${id}" name="${name}" value="${value}"${checked ? html` checked` : ''}>
  <label class="utrecht-form-label utrecht-form-label--radio" for="${id}">${label}</label>${extra ?? ''}</div>`;
}

/** Values the form shows again after a refusal or a validation error. */
export type FormValues = Record<string, string | undefined>;

/** The outcome fieldset shared by task forms and the resident-contact form. */
function outcomeFields(values: FormValues, prefix: string, legend: string): SafeHtml {
  return html`<fieldset class="utrecht-form-fieldset vs-fieldset" id="${prefix}-uitkomst">
  <legend class="utrecht-form-fieldset__legend">${legend}</legend>
  ${OUTCOME_KINDS.map((k) => radio('outcome', k, OUTCOME_LABELS[k], values.outcome === k, `${prefix}-outcome-${k}`))}
  <div class="vs-subfields">
    <p class="utrecht-paragraph vs-muted">Bij toestemming:</p>
    <div class="utrecht-form-field"><label class="utrecht-form-label" for="${prefix}-consentDate">Datum toestemmingsformulier</label>
      <input class="utrecht-textbox utrecht-textbox--html-input" type="date" id="${prefix}-consentDate" name="consentDate" value="${values.consentDate ?? ''}"></div>
    <div class="utrecht-form-field"><label class="utrecht-form-label" for="${prefix}-consentReference">Kenmerk toestemmingsformulier</label>
      <input class="utrecht-textbox utrecht-textbox--html-input" id="${prefix}-consentReference" name="consentReference" maxlength="64" value="${values.consentReference ?? ''}"></div>
    <p class="utrecht-paragraph vs-muted">Bij "nu niet":</p>
    <div class="utrecht-form-field"><label class="utrecht-form-label" for="${prefix}-recontactDate">Opnieuw contact op</label>
      <input class="utrecht-textbox utrecht-textbox--html-input" type="date" id="${prefix}-recontactDate" name="recontactDate" value="${values.recontactDate ?? ''}"></div>
  </div>
</fieldset>`;
}

function dagdeelSelect(id: string, current: Dagdeel): SafeHtml {
  return html`<div class="utrecht-form-field"><label class="utrecht-form-label" for="${id}">Dagdeel</label>
  <select class="utrecht-select utrecht-select--html-select" id="${id}" name="dagdeel">${DAGDELEN.map((d) => option(d, d, d === current))}</select></div>`;
}

export interface TaskFormData {
  task: Task;
  residentName: string | null;
  address: string;
  phone: string | null;
  csrfToken: string;
  submissionId: string;
  dagdeel: Dagdeel;
  values: FormValues;
  error: string | null;
  /** Further fields rendered just before the submit button (e.g. the objection checkbox). */
  extraFields?: SafeHtml;
}

/** The phone or home-visit form. */
export function taskFormView(d: TaskFormData): SafeHtml {
  const t = d.task;
  const isVisit = t.kind === 'visit';
  const v = d.values;
  const closed = t.status !== 'open';
  return html`<p class="utrecht-paragraph">${KIND_LABELS[t.kind]}, poging ${t.attempt}, uiterlijk ${formatDate(t.due_at)}.
  Inwoner: <a class="utrecht-link" href="/zaken/${t.case_id}">${d.residentName ?? '(gegevens verwijderd)'}</a>, ${d.address}${d.phone && !isVisit ? html`, telefoon <a class="utrecht-link" href="tel:${d.phone}">${d.phone}</a>` : ''}.</p>
${d.error ? html`<div class="utrecht-alert utrecht-alert--error vs-notice vs-notice--error" role="alert" id="fout"><p class="utrecht-paragraph"><strong>Niet vastgelegd:</strong> ${d.error}</p></div>` : ''}
${closed && !d.error ? html`<p class="utrecht-paragraph"><strong>Deze taak is al afgerond.</strong></p>` : ''}
<form method="post" action="/taken/${t.id}/afronden" class="utrecht-form vs-form" data-once>
  ${csrfField(d.csrfToken)}
  <input type="hidden" name="submissionId" value="${d.submissionId}">
  <fieldset class="utrecht-form-fieldset vs-fieldset">
    <legend class="utrecht-form-fieldset__legend">${isVisit ? 'Was er iemand thuis?' : 'Heeft u de inwoner gesproken?'}</legend>
    ${radio('reached', 'nee', isVisit ? 'Niemand thuis: kaartje achtergelaten' : 'Niet bereikt', v.reached === 'nee', 'reached-nee')}
    ${radio('reached', 'ja', isVisit ? 'Inwoner gesproken' : 'Bereikt en gesproken', v.reached === 'ja', 'reached-ja')}
  </fieldset>
  ${dagdeelSelect('dagdeel', (v.dagdeel as Dagdeel | undefined) ?? d.dagdeel)}
  ${outcomeFields(v, 'taak', 'Uitkomst van het gesprek (alleen als u de inwoner sprak)')}
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="note">Korte notitie (optioneel)</label>
    <div class="utrecht-form-field-description" id="note-hint">Alleen wat nodig is voor het vervolg. Wordt verwijderd met de gegevens van de inwoner.</div>
    <textarea class="utrecht-textarea utrecht-textarea--html-textarea" id="note" name="note" rows="3" maxlength="2000" aria-describedby="note-hint">${v.note ?? ''}</textarea></div>
  ${d.extraFields ?? ''}
  <button type="submit" class="utrecht-button utrecht-button--primary-action">Vastleggen</button>
</form>`;
}

/** Phone, e-mail and address, as the resident row and each partner's report hold them. */
type ContactDetails = ContactColumns;

export interface CaseViewData {
  c: Case;
  details: {
    resident:
      | (ContactDetails & {
          first_names: string;
          surname_prefix: string | null;
          surname: string;
          birth_date: string;
          details_partner_id: string | null;
        })
      | undefined;
    household: { first_names: string; surname_prefix: string | null; surname: string; birth_date: string }[];
    /** What each partner last reported, newest first (contact details per partner). */
    reports: ReadonlyArray<ContactDetails & { partner_id: string; partnerName: string; signal_date: string }>;
    signals: {
      partnerName: string;
      partner_type: string;
      amount: string;
      arrears_since: string;
      signal_date: string;
      crisis: boolean;
      warm_handover: boolean;
      classification: SignalClassification;
      status: string;
    }[];
    tasks: Task[];
    attempts: { soort: string; bereikt: boolean; attempted_at: Date; dagdeel: string }[];
    letters: { channel: string; template: string; status: string; created_at: Date }[];
  };
  csrfToken: string;
  submissionId: string;
  dagdeel: Dagdeel;
  values: FormValues;
  error: string | null;
  /** Further fields rendered just before the submit button of the contact form. */
  extraFields?: SafeHtml;
}

const fullName = (r: { first_names: string; surname_prefix: string | null; surname: string }) =>
  [r.first_names, r.surname_prefix, r.surname].filter(Boolean).join(' ');

/** A letter, e-mail or card on the case page's timeline, with why it did not go out when it did not. */
function letterText(l: { channel: string; template: string; status: string }): SafeHtml {
  const what = l.channel === 'card' ? 'Kaartje' : (TEMPLATE_LABELS[l.template] ?? 'Brief');
  const done = l.channel === 'card' ? 'achtergelaten' : 'verstuurd';
  if (l.status === 'objected') return html`${what} niet ${done}: de inwoner staat in het bezwaarregister`;
  if (l.status === 'no-resident') return html`${what} niet ${done}: geen persoonsgegevens (meer) bekend`;
  return html`${what} ${done}`;
}

type Report = CaseViewData['details']['reports'][number];
const addressOf = addressLine;

/**
 * Where the contact details come from: the partner whose report (the newest signal date) they are, and
 * what other partners reported differently, so a caseworker sees a disagreement instead of one partner's
 * report silently replacing another's.
 */
function detailsSource(r: NonNullable<CaseViewData['details']['resident']>, reports: readonly Report[]) {
  const source = reports.find((x) => x.partner_id === r.details_partner_id);
  const current = addressOf(r);
  const differing = reports.filter(
    (x) =>
      x !== source &&
      (addressOf(x) !== current || (x.phone && x.phone !== r.phone) || (x.email && x.email !== r.email)),
  );
  return html`<dt>Bron contactgegevens</dt><dd>${source ? html`${source.partnerName}, signaal van ${formatDate(source.signal_date)} (de nieuwste melding telt)` : 'onbekend'}</dd>
    ${
      differing.length
        ? html`<dt>Anders gemeld</dt><dd><ul class="utrecht-unordered-list" data-testid="other-reports">${differing.map(
            (x) =>
              html`<li>${x.partnerName} (${formatDate(x.signal_date)}): ${addressOf(x)}${x.phone ? html`, telefoon ${x.phone}` : ''}${x.email ? html`, e-mail ${x.email}` : ''}</li>`,
          )}</ul></dd>`
        : ''
    }`;
}

/** The case page: resident, household, signals, timeline, next step, allowed actions. */
export function caseView(d: CaseViewData): SafeHtml {
  const { c, details } = d;
  const r = details.resident;
  const closed = c.closed_at !== null || (END_STAGES as readonly string[]).includes(c.stage);
  const openTask = details.tasks.find((t) => t.status === 'open');
  type Entry = { at: Date; text: SafeHtml };
  const timeline: Entry[] = [
    ...details.letters.map((l) => ({ at: l.created_at, text: letterText(l) })),
    ...details.attempts.map((a) => ({
      at: a.attempted_at,
      text: html`Contactpoging: ${a.soort}, ${a.dagdeel.toLowerCase()}, <strong>${a.bereikt ? 'bereikt' : 'niet bereikt'}</strong>`,
    })),
    ...details.tasks.map((t) => ({
      at: t.created_at,
      text: html`Taak aangemaakt: ${KIND_LABELS[t.kind]}, poging ${t.attempt}`,
    })),
    ...details.tasks
      .filter((t) => t.completed_at)
      .map((t) => ({
        at: t.completed_at!,
        text: html`Taak ${t.status === 'cancelled' ? 'vervallen' : 'afgerond'}: ${KIND_LABELS[t.kind]}, poging ${t.attempt}${t.outcome ? html`, ${TASK_OUTCOME_LABELS[t.outcome] ?? OUTCOME_LABELS[t.outcome as keyof typeof OUTCOME_LABELS] ?? t.outcome}` : ''}${t.completed_by ? html` (door ${t.completed_by})` : ''}${t.note ? html`<br><span class="vs-note">Notitie: ${t.note}</span>` : ''}`,
      })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  return html`<section aria-labelledby="stand" class="vs-section">
  <h2 class="utrecht-heading-2" id="stand">Stand van zaken</h2>
  <dl class="vs-dl">
    <dt>Stap</dt><dd id="case-stage">${STAGE_LABELS[c.stage] ?? c.stage}</dd>
    <dt>Team</dt><dd>${teamName(c.team)}</dd>
    <dt>Prioriteit</dt><dd>${PRIORITY_LABELS[c.priority] ?? c.priority}</dd>
    ${c.result ? html`<dt>Resultaat</dt><dd>${c.result}</dd>` : ''}
    <dt>Volgende stap</dt><dd>${openTask ? html`${KIND_LABELS[openTask.kind]} (poging ${openTask.attempt}), uiterlijk ${formatDate(openTask.due_at)}: <a class="utrecht-link" href="/taken/${openTask.id}">uitkomst vastleggen</a>` : c.next_deadline ? html`${closed ? 'Gegevens verwijderen' : 'Volgende stap'} op ${formatDateTime(c.next_deadline)}` : closed ? 'Geen: de zaak is afgesloten' : 'Wacht op een medewerker'}</dd>
  </dl>
</section>
<section aria-labelledby="inwoner" class="vs-section">
  <h2 class="utrecht-heading-2" id="inwoner">Inwoner en huishouden</h2>
  ${
    r
      ? html`<dl class="vs-dl">
    <dt>Naam</dt><dd>${fullName(r)}</dd>
    <dt>Geboortedatum</dt><dd>${formatDate(r.birth_date)}</dd>
    <dt>Adres</dt><dd>${r.street} ${r.house_number}${r.house_number_addition ? ` ${r.house_number_addition}` : ''}, ${r.postcode} ${r.city}</dd>
    <dt>Telefoon</dt><dd>${r.phone ?? 'onbekend'}</dd>
    <dt>E-mail</dt><dd>${r.email ?? 'onbekend'}</dd>
    ${detailsSource(r, details.reports)}
    <dt>Huishouden</dt><dd>${details.household.length ? html`<ul class="utrecht-unordered-list">${details.household.map((m) => html`<li>${fullName(m)} (${formatDate(m.birth_date)})</li>`)}</ul>` : 'Geen andere bekende bewoners op dit adres'}</dd>
  </dl>`
      : html`<p class="utrecht-paragraph">De persoonsgegevens zijn verwijderd.</p>`
  }
</section>
<section aria-labelledby="signalen" class="vs-section">
  <h2 class="utrecht-heading-2" id="signalen">Signalen</h2>
  <div class="utrecht-table-container"><table class="utrecht-table vs-table">
  <thead class="utrecht-table__header"><tr class="utrecht-table__row">
    <th class="utrecht-table__header-cell" scope="col">Partner</th><th class="utrecht-table__header-cell" scope="col">Soort</th>
    <th class="utrecht-table__header-cell" scope="col">Bedrag</th><th class="utrecht-table__header-cell" scope="col">Achterstand sinds</th>
    <th class="utrecht-table__header-cell" scope="col">Signaaldatum</th><th class="utrecht-table__header-cell" scope="col">Melding</th><th class="utrecht-table__header-cell" scope="col">Status</th></tr></thead>
  <tbody class="utrecht-table__body">${details.signals.map(
    (
      s,
    ) => html`<tr class="utrecht-table__row"><td class="utrecht-table__cell">${s.partnerName}${s.crisis ? html` <strong class="vs-badge vs-badge--crisis">Crisis</strong>` : ''}${s.warm_handover ? html` <strong class="vs-badge">Warme overdracht</strong>` : ''}</td>
      <td class="utrecht-table__cell">${s.partner_type}</td><td class="utrecht-table__cell vs-num">${formatAmount(s.amount)}</td>
      <td class="utrecht-table__cell">${formatDate(s.arrears_since)}</td><td class="utrecht-table__cell">${formatDate(s.signal_date)}</td><td class="utrecht-table__cell">${SIGNAL_CLASSIFICATION_LABELS[s.classification]}</td><td class="utrecht-table__cell">${s.status}</td></tr>`,
  )}</tbody></table></div>
</section>
<section aria-labelledby="tijdlijn" class="vs-section">
  <h2 class="utrecht-heading-2" id="tijdlijn">Tijdlijn</h2>
  <ol class="utrecht-ordered-list vs-timeline">${timeline.map((e) => html`<li><time datetime="${e.at.toISOString()}">${formatDateTime(e.at)}</time>: ${e.text}</li>`)}</ol>
</section>
${
  closed
    ? ''
    : html`<section aria-labelledby="contact" class="vs-section">
  <h2 class="utrecht-heading-2" id="contact">De inwoner nam zelf contact op</h2>
  ${d.error ? html`<div class="utrecht-alert utrecht-alert--error vs-notice vs-notice--error" role="alert" id="fout"><p class="utrecht-paragraph"><strong>Niet vastgelegd:</strong> ${d.error}</p></div>` : ''}
  <form method="post" action="/zaken/${c.id}/contact" class="utrecht-form vs-form" data-once>
    ${csrfField(d.csrfToken)}
    <input type="hidden" name="submissionId" value="${d.submissionId}">
    <fieldset class="utrecht-form-fieldset vs-fieldset"><legend class="utrecht-form-fieldset__legend">Hoe nam de inwoner contact op?</legend>
      ${Object.entries(CONTACT_CHANNELS).map(([k, ch]) => radio('channel', k, ch.label, d.values.channel === k, `channel-${k}`))}
    </fieldset>
    ${dagdeelSelect('contact-dagdeel', (d.values.dagdeel as Dagdeel | undefined) ?? d.dagdeel)}
    ${outcomeFields(d.values, 'contact', 'Uitkomst van het gesprek')}
    ${d.extraFields ?? ''}
    <button type="submit" class="utrecht-button utrecht-button--primary-action">Contact vastleggen</button>
  </form>
</section>`
}`;
}

export interface VisitRow {
  id: string;
  case_id: string;
  attempt: number;
  due_at: Date;
  assigned_to: string | null;
  preferred_dagdeel: string | null;
  priority: string;
  first_names: string;
  surname_prefix: string | null;
  surname: string;
  street: string;
  postcode: string;
  house_number: number;
  house_number_addition: string | null;
  city: string;
}

function visitGroups(rows: VisitRow[]): SafeHtml {
  if (rows.length === 0) return html`<p class="utrecht-paragraph">Geen huisbezoeken.</p>`;
  const byArea = new Map<string, VisitRow[]>();
  for (const r of rows) {
    const area = r.postcode.slice(0, 4);
    byArea.set(area, [...(byArea.get(area) ?? []), r]);
  }
  return html`${[...byArea].map(
    ([
      area,
      list,
    ]) => html`<section class="vs-visit-area"><h3 class="utrecht-heading-3">Wijk ${area} (${list.length})</h3>
    <ol class="utrecht-ordered-list vs-visits">${list.map(
      (
        r,
      ) => html`<li><strong>${r.street} ${r.house_number}${r.house_number_addition ? ` ${r.house_number_addition}` : ''}</strong>, ${r.postcode} ${r.city}: ${fullName(r)}.
      Bezoek ${r.attempt}, uiterlijk ${formatDate(r.due_at)}${r.preferred_dagdeel ? `, bij voorkeur ${r.preferred_dagdeel.toLowerCase()}` : ''}${r.priority !== 'normal' ? html` <strong class="vs-badge vs-badge--${r.priority}">${PRIORITY_LABELS[r.priority] ?? r.priority}</strong>` : ''}${r.assigned_to ? ` (opgepakt door ${r.assigned_to})` : ''}
      <span class="vs-no-print"> - <a class="utrecht-link" href="/taken/${r.id}">uitkomst vastleggen</a></span></li>`,
    )}</ol></section>`,
  )}`;
}

/** Today's and this week's home visits, grouped by wijk, in walking order; prints cleanly. */
export function visitListView(today: VisitRow[], week: VisitRow[]): SafeHtml {
  return html`<p class="utrecht-paragraph vs-no-print"><button type="button" class="utrecht-button utrecht-button--secondary-action" data-print>Afdrukken</button>
  Gesorteerd op wijk, postcode en huisnummer: de looproute.</p>
<section aria-labelledby="vandaag"><h2 class="utrecht-heading-2" id="vandaag">Vandaag (en te laat): ${today.length}</h2>${visitGroups(today)}</section>
<section aria-labelledby="week" class="vs-page-break"><h2 class="utrecht-heading-2" id="week">Later deze week: ${week.length}</h2>${visitGroups(week)}</section>`;
}
