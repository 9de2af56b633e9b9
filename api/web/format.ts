/** Dutch formatting of dates, amounts and the case's words for the workspace pages. */

const TZ = 'Europe/Amsterdam';
const dateFmt = new Intl.DateTimeFormat('nl-NL', {
  timeZone: TZ,
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const dateTimeFmt = new Intl.DateTimeFormat('nl-NL', {
  timeZone: TZ,
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const euro = new Intl.NumberFormat('nl-NL', { style: 'currency', currency: 'EUR' });

/** 27 nov. 2026 */
export function formatDate(d: Date | string): string {
  return dateFmt.format(typeof d === 'string' ? new Date(`${d}T12:00:00Z`) : d);
}
/** 27 nov. 2026 14:05 */
export function formatDateTime(d: Date): string {
  return dateTimeFmt.format(d);
}
/** € 412,50 */
export function formatAmount(amount: number | string): string {
  return euro.format(Number(amount));
}
/** YYYY-MM-DD of an instant in the municipality's time zone (for date inputs). */
export function isoDay(d: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(d);
}

export const KIND_LABELS: Record<string, string> = { phone: 'Bellen', visit: 'Huisbezoek' };

export const STAGE_LABELS: Record<string, string> = {
  screening: 'Beoordelen van het signaal',
  letter: 'Brief verstuurd, wachten op reactie',
  phone: 'Bellen',
  visit: 'Huisbezoek',
  awaitingResponse: 'Kaartje achtergelaten, wachten op reactie',
  handedOver: 'Overgedragen aan schuldhulpverlening (afgesloten)',
  declined: 'Inwoner wil geen hulp (afgesloten)',
  notNow: 'Later opnieuw contact',
  concluded: 'Gesprek gevoerd (afgesloten)',
  unreachable: 'Niet bereikt (afgesloten)',
  notPickedUp: 'Niet opgepakt (afgesloten)',
  objected: 'Bezwaar tegen gegevensdeling (afgesloten)',
  deleting: 'Gegevens worden verwijderd',
  closed: 'Gesloten',
  waitingForSignal: 'Wacht op het eerste signaal',
};

export const PRIORITY_LABELS: Record<string, string> = { normal: 'Normaal', high: 'Hoog', crisis: 'Crisis' };

export const TASK_OUTCOME_LABELS: Record<string, string> = {
  not_reached: 'Niet bereikt',
  reached: 'Bereikt',
};

export const TEMPLATE_LABELS: Record<string, string> = {
  first: 'Eerste brief',
  reminder: 'Herinneringsbrief',
  recontactConfirmation: 'Bevestiging later contact',
};

/** Zwaluwstraat 12 b, 1761 AB Anna Paulowna */
export function addressLine(a: {
  street: string;
  house_number: number;
  house_number_addition: string | null;
  postcode: string;
  city: string;
}): string {
  const addition = a.house_number_addition ? ` ${a.house_number_addition}` : '';
  return `${a.street} ${a.house_number}${addition}, ${a.postcode} ${a.city}`;
}
