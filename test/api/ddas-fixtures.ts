/**
 * Anonymous-facts fixtures for the DDAS and monitor tests: residents, signals, cases and contact attempts
 * inserted directly, in a municipality code of their own so parallel test files never see each other's rows.
 * Every EnumEindresultaat, EnumSignaalstatus, EnumContactsoort and EnumDagdeel occurs.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { CONTACTSOORTEN, DAGDELEN, EINDRESULTATEN, SIGNAALPARTNERS } from '../../workflows/ddas.js';

/** The official DDAS v1.2 schema, as copied into the repository. */
export const SCHEMA = JSON.parse(
  readFileSync(new URL('../../api/ddas/schema/json_schema_Uitwisselmodel.json', import.meta.url), 'utf8'),
);

/** An ajv (draft 2020-12, strict) validator of Uitwisselmodel with the schema's formats checked. */
export function uitwisselmodelValidator() {
  // The official schema puts maxLength and required in oneOf branches whose types and properties are
  // declared beside them: valid JSON Schema that ajv's stricter lint rules flag, so those two are off.
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  ajv.addFormat(
    'date',
    (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && new Date(v).toISOString().startsWith(v),
  );
  ajv.addFormat('date-time', (v: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v),
  );
  ajv.addFormat('time', (v: string) => /^\d{2}:\d{2}:\d{2}$/.test(v));
  ajv.addFormat('email', (v: string) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v));
  return ajv.compile(SCHEMA);
}

/** A fresh municipality code for one test file. */
export function testMunicipality(): string {
  return `GM${randomInt(5000, 9999)}`;
}

const REJECTIONS = new Set<string>([
  'Inwoner al bekend bij schuldhulpverlening',
  'Inwoner is overleden',
  'Niet opgepakt: andere reden',
  'Niet opgepakt: herhaalde melding',
  'Niet opgepakt: onterecht signaal',
  'Persoon is geen inwoner (meer) in de gemeente',
]);

export interface SeededCase {
  caseId: string;
  caseKey: string;
  residentId: string | null;
  /** Every signal of the case, in the order of the rounds. */
  signalIds: string[];
  /** The signal ids per round (index 0 = round 1). */
  roundSignalIds: string[][];
  result: string | null;
  bsn: string | null;
}

export interface Seed {
  municipality: string;
  partnerId: string;
  cases: SeededCase[];
  /** Distinctive personal values that must never appear in an export. */
  personalValues: string[];
}

/** One round of outreach (vroegsignaalzaak) after the first, of the same case. */
export interface RoundSpec {
  result: string | null;
  signals: Array<{ status: string; date: string; partnerType?: string; amount?: number }>;
  startedAt: string;
  /** When the round got its result. */
  endedAt?: string | null;
  attempts?: Array<{ soort: string; bereikt: boolean; at: string; dagdeel: string }>;
}

interface CaseSpec {
  /** The result of the first round; of the case when it has one round. */
  result: string | null;
  signals: Array<{ status: string; date: string; partnerType?: string; amount?: number }>;
  startedAt: string;
  firstContactAt?: string | null;
  /** The workflow chain ended; also the end of the first round when `firstRoundEndedAt` is unset. */
  closedAt?: string | null;
  firstRoundEndedAt?: string | null;
  /** Later rounds of the same case (the chain stays open between them). */
  laterRounds?: RoundSpec[];
  attempts?: Array<{ soort: string; bereikt: boolean; at: string; dagdeel: string }>;
  bsn?: string | null;
  /** Resident row deleted (retention ended): signals keep only anonymous facts. */
  deleted?: boolean;
  stage?: string;
  household?: string;
}

/** Inserts one resident with its case(s) signals and attempts; returns the ids. */
export async function insertCase(
  db: Db,
  seed: Seed,
  spec: CaseSpec,
  caseKey: string = randomUUID(),
): Promise<SeededCase> {
  const tag = randomUUID().slice(0, 8);
  const firstNames = `Voornaam${tag}`;
  const surname = `Achternaam${tag}`;
  const household = spec.household ?? `hh-${tag}`;
  seed.personalValues.push(firstNames, surname, `Straat${tag}`);
  let residentId: string | null = null;
  if (!spec.deleted) {
    const existing = await db
      .selectFrom('residents')
      .select('id')
      .where('case_key', '=', caseKey)
      .executeTakeFirst();
    residentId =
      existing?.id ??
      (
        await db
          .insertInto('residents')
          .values({
            municipality: seed.municipality,
            case_key: caseKey,
            match_key: `mk-${tag}`,
            household_key: household,
            bsn: spec.bsn ?? null,
            first_names: firstNames,
            surname_prefix: null,
            surname,
            birth_date: '1971-03-14',
            sex: 'Vrouw',
            phone: '0612345678',
            email: `${tag}@voorbeeld.nl`,
            postcode: '1771 ab',
            house_number: 12,
            house_number_addition: 'B',
            street: `Straat${tag}`,
            city: 'Wieringerwerf',
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
  }
  const caseId = randomUUID();
  const rounds: RoundSpec[] = [
    {
      result: spec.result,
      signals: spec.signals,
      startedAt: spec.startedAt,
      endedAt:
        spec.firstRoundEndedAt !== undefined
          ? spec.firstRoundEndedAt
          : spec.result !== null || spec.closedAt
            ? (spec.closedAt ?? null)
            : null,
      attempts: spec.attempts ?? [],
    },
    ...(spec.laterRounds ?? []),
  ];
  const current = rounds.at(-1)!;
  await db
    .insertInto('cases')
    .values({
      id: caseId,
      workflow_id: `case:${seed.municipality}:${caseKey}`,
      municipality: seed.municipality,
      case_key: caseKey,
      team: 'schuldhulp',
      stage: spec.stage ?? (current.result ? 'closed' : 'letter'),
      priority: 'normal',
      partner_types: [...new Set(rounds.flatMap((r) => r.signals.map((s) => s.partnerType ?? 'Huur')))],
      result: current.result,
      policy: '{}',
      started_at: new Date(spec.startedAt),
      first_contact_at: spec.firstContactAt ? new Date(spec.firstContactAt) : null,
      closed_at: spec.closedAt ? new Date(spec.closedAt) : null,
      personal_data_deleted_at: spec.deleted ? new Date(spec.closedAt ?? spec.startedAt) : null,
    })
    .execute();
  const signalIds: string[] = [];
  const roundSignalIds: string[][] = [];
  for (const [r, round] of rounds.entries()) {
    await sql`
      insert into case_rounds (case_id, round, municipality, started_at, ended_at, result)
      values (${caseId}, ${r + 1}, ${seed.municipality}, ${new Date(round.startedAt)},
        ${round.endedAt ? new Date(round.endedAt) : null}, ${round.result})`.execute(db);
    const ids: string[] = [];
    for (const [i, s] of round.signals.entries()) {
      // Received a minute before the round started (the first) or while it was open (the others).
      const receivedAt = new Date(new Date(round.startedAt).getTime() + (i === 0 ? -60_000 : i * 3_600_000));
      const row = await db
        .insertInto('signals')
        .values({
          municipality: seed.municipality,
          partner_id: seed.partnerId,
          partner_type: s.partnerType ?? 'Huur',
          partner_reference: `REF-${randomUUID()}`,
          resident_id: residentId,
          case_key: caseKey,
          signal_date: s.date,
          arrears_since: '2025-11-01',
          amount: s.amount ?? 412.5,
          crisis: i === 1,
          warm_handover: false,
          status: s.status,
          received_at: receivedAt,
          dispatched_at: receivedAt,
          household_key: household,
          case_id: caseId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await sql`update signals set case_round = ${r + 1} where id = ${row.id}`.execute(db);
      ids.push(row.id);
    }
    signalIds.push(...ids);
    roundSignalIds.push(ids);
    for (const [i, a] of (round.attempts ?? []).entries()) {
      await db
        .insertInto('contact_attempts')
        .values({
          idempotency_key: `${caseId}:${r + 1}:${i}`,
          case_id: caseId,
          soort: a.soort,
          bereikt: a.bereikt,
          attempted_at: new Date(a.at),
          dagdeel: a.dagdeel,
          round: r + 1,
        })
        .execute();
    }
  }
  const created = {
    caseId,
    caseKey,
    residentId,
    signalIds,
    roundSignalIds,
    result: current.result,
    bsn: spec.bsn ?? null,
  };
  seed.cases.push(created);
  return created;
}

/** An empty seed in `municipality`, with a partner of its own. */
async function newSeed(db: Db, municipality: string): Promise<Seed> {
  const partner = await db
    .insertInto('partners')
    .values({ name: `Partner ${municipality} ${randomUUID()}`, partner_type: 'Huur' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { municipality, partnerId: partner.id, cases: [], personalValues: [] };
}

/**
 * A first quarter of 2026 with one closed case per EnumEindresultaat (half of them with a BSN), an open
 * case with two signals, a case still in screening, a resident whose data was deleted, a resident with a
 * second case after the first closed, and a signal dated before the quarter.
 */
export async function seedQuarter(db: Db, municipality = testMunicipality()): Promise<Seed> {
  const seed = await newSeed(db, municipality);
  let soortIndex = 0;
  for (const [i, result] of EINDRESULTATEN.entries()) {
    const rejected = REJECTIONS.has(result);
    const day = String(2 + i).padStart(2, '0');
    const attempts = rejected
      ? []
      : [0, 1, 2].map((k) => {
          const soort = CONTACTSOORTEN[soortIndex++ % CONTACTSOORTEN.length]!;
          return {
            soort,
            bereikt: k === 2,
            at: `2026-02-${day}T${['08', '13', '19'][k]}:30:00+01:00`,
            dagdeel: DAGDELEN[k]!,
          };
        });
    await insertCase(db, seed, {
      result,
      bsn: i % 2 === 0 ? `1000000${String(i).padStart(2, '0')}` : null,
      signals: [
        {
          status: rejected ? result : 'Opgepakt',
          date: `2026-01-${day}`,
          partnerType: SIGNAALPARTNERS[i % SIGNAALPARTNERS.length]!,
          amount: 100 + i,
        },
      ],
      startedAt: `2026-01-${day}T10:00:00+01:00`,
      firstContactAt: rejected ? null : `2026-02-${day}T19:30:00+01:00`,
      closedAt: `2026-03-${day}T10:00:00+01:00`,
      attempts,
      household: i < 2 ? 'hh-shared' : undefined,
    });
  }
  // Open: two signals (the second joins), a letter sent and a card.
  await insertCase(db, seed, {
    result: null,
    signals: [
      { status: 'Opgepakt', date: '2026-03-02', partnerType: 'Zorg' },
      { status: 'Opgepakt', date: '2026-03-03', partnerType: 'Energie' },
    ],
    startedAt: '2026-03-02T10:00:00+01:00',
    attempts: [{ soort: 'Brief', bereikt: false, at: '2026-03-02T10:05:00+01:00', dagdeel: 'Ochtend' }],
  });
  // Still in screening.
  await insertCase(db, seed, {
    result: null,
    stage: 'screening',
    signals: [{ status: 'Nog niet opgepakt', date: '2026-03-30', partnerType: 'Water' }],
    startedAt: '2026-03-30T10:00:00+02:00',
  });
  // Personal data deleted: anonymous facts only.
  await insertCase(db, seed, {
    result: 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering',
    deleted: true,
    signals: [{ status: 'Opgepakt', date: '2026-01-20', partnerType: 'Huur' }],
    startedAt: '2026-01-20T10:00:00+01:00',
    firstContactAt: '2026-01-27T14:00:00+01:00',
    closedAt: '2026-01-28T10:00:00+01:00',
    attempts: [{ soort: 'Telefoon', bereikt: true, at: '2026-01-27T14:00:00+01:00', dagdeel: 'Middag' }],
  });
  // One resident, two cases: the first closed in January, the second started in February.
  const first = await insertCase(db, seed, {
    result: 'Definitief geen contact kunnen krijgen',
    signals: [{ status: 'Opgepakt', date: '2026-01-05', partnerType: 'Water' }],
    household: 'hh-twice',
    startedAt: '2026-01-05T10:00:00+01:00',
    closedAt: '2026-01-25T10:00:00+01:00',
    attempts: [{ soort: 'Huisbezoek', bereikt: false, at: '2026-01-15T11:00:00+01:00', dagdeel: 'Ochtend' }],
  });
  await insertCase(
    db,
    seed,
    {
      result: null,
      signals: [{ status: 'Opgepakt', date: '2026-02-10', partnerType: 'Water' }],
      household: 'hh-twice',
      startedAt: '2026-02-10T10:00:00+01:00',
    },
    first.caseKey,
  );
  // Dated before the quarter: not delivered for Q1.
  await insertCase(db, seed, {
    result: null,
    signals: [{ status: 'Opgepakt', date: '2025-12-15' }],
    startedAt: '2025-12-16T10:00:00+01:00',
    closedAt: '2025-12-20T10:00:00+01:00',
  });
  return seed;
}

/**
 * One resident whose case ran two rounds of outreach in the first quarter of 2025 (the chain stayed open in
 * between): round 1 from 5 January, reached by phone, ended on 12 January with advice, and a repeat signal
 * afterwards that was not picked up (it stays with round 1); round 2 from a new signal on 10 February, a
 * letter, a visit and a card, ended unreachable on 15 March.
 */
export async function seedTwoRounds(db: Db, municipality = testMunicipality()) {
  const seed = await newSeed(db, municipality);
  const seeded = await insertCase(db, seed, {
    result: '(Budget)advies en/of quick fix',
    stage: 'unreachable',
    bsn: '100000077',
    signals: [
      { status: 'Opgepakt', date: '2025-01-05', partnerType: 'Huur' },
      { status: 'Niet opgepakt: herhaalde melding', date: '2025-01-20', partnerType: 'Huur' },
    ],
    startedAt: '2025-01-05T10:00:00+01:00',
    firstContactAt: '2025-01-12T14:00:00+01:00',
    firstRoundEndedAt: '2025-01-12T14:00:00+01:00',
    attempts: [
      { soort: 'Brief', bereikt: false, at: '2025-01-05T10:00:00+01:00', dagdeel: 'Ochtend' },
      { soort: 'Telefoon', bereikt: true, at: '2025-01-12T14:00:00+01:00', dagdeel: 'Middag' },
    ],
    laterRounds: [
      {
        result: 'Definitief geen contact kunnen krijgen',
        signals: [{ status: 'Opgepakt', date: '2025-02-10', partnerType: 'Zorg' }],
        startedAt: '2025-02-10T10:00:00+01:00',
        endedAt: '2025-03-15T10:00:00+01:00',
        attempts: [
          { soort: 'Brief', bereikt: false, at: '2025-02-10T10:00:00+01:00', dagdeel: 'Ochtend' },
          { soort: 'Huisbezoek', bereikt: false, at: '2025-02-20T19:00:00+01:00', dagdeel: 'Avond' },
          { soort: 'Kaartje', bereikt: false, at: '2025-02-20T19:00:00+01:00', dagdeel: 'Avond' },
        ],
      },
    ],
  });
  return { seed, seeded };
}

/** Headers of a token request of the demo CBS client (`DDAS_CLIENT_ID` / `DDAS_CLIENT_SECRET` defaults). */
export const DEMO_TOKEN_REQUEST = {
  method: 'POST' as const,
  url: '/ddas/v1/oauth/token',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from('cbs-demo:development-only-ddas-client-secret').toString('base64')}`,
  },
  payload: 'grant_type=client_credentials',
};
