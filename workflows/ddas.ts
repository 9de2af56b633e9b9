/**
 * DDAS v1.2 enumerations (VNG Realisatie, `json_schema_Uitwisselmodel.json`), the single place the
 * project spells them. Values are kept exactly as the standard writes them, because they are
 * exported to CBS verbatim.
 *
 * This module is bundled into the Temporal workflow sandbox: no zod, no Node built-ins.
 */

/** EnumSignaalpartner: kinds of organisations that deliver signals. */
export const SIGNAALPARTNERS = [
  'Belastingdienst',
  'CAK Eigen bijdrage',
  'CAK Zorgverzekeringen',
  'Dienst Toeslagen',
  'DUO',
  'Energie',
  'Huur',
  'Hypotheek',
  'Overige',
  'Water',
  'Zorg',
] as const;
export type Signaalpartner = (typeof SIGNAALPARTNERS)[number];

/** EnumContactsoort: the channel of one contact attempt (contactpoging). */
export const CONTACTSOORTEN = [
  'Administratief',
  'Afspraak op locatie',
  'Brief',
  'Huisbezoek',
  'Kaartje',
  'Mail',
  'Onbekend',
  'Overige',
  'SMS/Whatsapp',
  'Telefoon',
] as const;
export type Contactsoort = (typeof CONTACTSOORTEN)[number];

/** EnumDagdeel: part of the day of a contact attempt. */
export const DAGDELEN = ['Ochtend', 'Middag', 'Avond'] as const;
export type Dagdeel = (typeof DAGDELEN)[number];

/** EnumEindresultaat: the closed list of how a vroegsignaalzaak ends. */
export const EINDRESULTATEN = [
  '(Budget)advies en/of quick fix',
  'Definitief geen contact kunnen krijgen',
  'Geen reactie na eerder contact',
  'Inwoner al bekend bij schuldhulpverlening',
  'Inwoner heeft al een ander lopend traject',
  'Inwoner heeft zelf al betaald/betalingsregeling getroffen',
  'Inwoner is overleden',
  'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering',
  'Niet opgepakt: andere reden',
  'Niet opgepakt: herhaalde melding',
  'Niet opgepakt: onterecht signaal',
  'Persoon is geen inwoner (meer) in de gemeente',
  'Vervolghulp en/of verwijzing',
  'Vervolghulp en/of verwijzing financieel',
  'Vervolghulp en/of verwijzing niet financieel',
  'Verwijzing zonder tussenkomst inwoner',
] as const;
export type Eindresultaat = (typeof EINDRESULTATEN)[number];

/** EnumSignaalstatus: what the municipality did with one signal. */
export const SIGNAALSTATUSSEN = [
  'Inwoner al bekend bij schuldhulpverlening',
  'Inwoner is overleden',
  'Niet opgepakt: andere reden',
  'Niet opgepakt: herhaalde melding',
  'Niet opgepakt: onterecht signaal',
  'Nog niet opgepakt',
  'Opgepakt',
  'Persoon is geen inwoner (meer) in de gemeente',
] as const;
export type Signaalstatus = (typeof SIGNAALSTATUSSEN)[number];

// Building a DateTimeFormat is costly and its output depends only on the zone, so one per zone.
const hourFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The DDAS dagdeel of an instant in a time zone: Ochtend before 12:00, Middag 12:00-18:00,
 * Avond from 18:00. Deterministic (no current time, no locale default), so usable in workflows.
 */
export function dagdeelOf(epochMs: number, timeZone = 'Europe/Amsterdam'): Dagdeel {
  let format = hourFormats.get(timeZone);
  if (!format) {
    // hourCycle h23 so midnight is 0, not 24 as some ICU versions print with hour12: false.
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' });
    hourFormats.set(timeZone, format);
  }
  const hourPart = format.formatToParts(epochMs).find((part) => part.type === 'hour');
  const hour = Number(hourPart?.value);
  if (hour < 12) return 'Ochtend';
  if (hour < 18) return 'Middag';
  return 'Avond';
}
