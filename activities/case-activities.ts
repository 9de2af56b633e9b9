/**
 * Side effects of the case workflow: read models (case, tasks, contact attempts), partner feedback,
 * handover, deletion. Each effect is idempotent on its `key` (`<caseId>:<machine step>`), so a retried
 * activity never creates a second task, letter or notification.
 * Inputs and results carry ids, enums, amounts and dates only: personal data stays in PostgreSQL.
 */
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import {
  attemptRound,
  openFirstRound,
  recordSignalRound,
  syncRounds,
} from '../db/repositories/case-rounds.js';
import { recordOutboundOnce, recordWithheld, residentObjected } from '../db/repositories/outbound.js';
import type { Contactsoort, Dagdeel, Signaalstatus } from '../workflows/ddas.js';

/**
 * How letters, e-mails and cards reach the resident. The implementation fetches the resident's personal
 * data from PostgreSQL itself and must be idempotent on `input.key`: a retried activity sends nothing twice.
 */
export interface OutreachChannel {
  deliver(input: OutboundInput): Promise<'queued' | 'already-sent' | 'withheld'>;
  /** Deletes documents the channel keeps outside these tables (e.g. the print outbox); idempotent. */
  forget?(input: { caseKey: string }): Promise<void>;
}

export interface CaseActivityDependencies {
  db: Db;
  /** Default: `recordOnlyChannel`, which records the send for the print outbox without rendering. */
  channel?: OutreachChannel;
}

/** The minimal channel: records each send once in `outbound_messages`. */
export function recordOnlyChannel(db: Db): OutreachChannel {
  return {
    async deliver(input) {
      const inserted = await recordOutboundOnce(db, {
        idempotency_key: input.key,
        case_id: input.caseId,
        channel: input.channel,
        template: input.template,
        status: 'queued',
      });
      return inserted ? 'queued' : 'already-sent';
    },
  };
}

export interface RegisterCaseInput {
  caseId: string;
  workflowId: string;
  municipality: string;
  caseKey: string;
  team: string;
  stage: string;
  priority: string;
  partnerTypes: string[];
  policy: unknown;
  startedAt: number;
}

export interface SyncCaseInput {
  caseId: string;
  stage: string;
  priority: string;
  round: number;
  partnerTypes: string[];
  nextDeadline: number | null;
  result: string | null;
  closed: boolean;
  at: number;
}

export interface CreateTaskInput {
  key: string;
  caseId: string;
  workflowId: string;
  taskId: string;
  kind: 'phone' | 'visit';
  attempt: number;
  team: string;
  priority: string;
  preferredDagdeel: Dagdeel | null;
  dueAt: number;
}

export interface ContactAttemptInput {
  key: string;
  caseId: string;
  soort: Contactsoort;
  bereikt: boolean;
  at: number;
  dagdeel: Dagdeel;
}

export interface OutboundInput {
  key: string;
  caseId: string;
  caseKey: string;
  channel: 'letter' | 'card';
  template: string;
  /** For the re-contact confirmation: the agreed moment (epoch ms) the letter names. */
  recontactAt?: number | null;
}

export interface NotifyPartnerInput {
  key: string;
  caseId: string;
  signalIds: string[];
  message: 'picked_up' | 'declined' | 'no_contact' | 'not_picked_up';
}

/** Builds the activities over their dependencies (tests pass their own database). */
export function createCaseActivities(dependencies: CaseActivityDependencies) {
  const effects = createCaseEffects(dependencies);
  /** Carries out `list` in order; each effect is idempotent on its own key, so a retry repeats nothing done. */
  const runEffects = async (list: StepEffect[]): Promise<StepResult[]> => {
    const results: StepResult[] = [];
    for (const effect of list) {
      // Safe by construction: `StepEffect` pairs each effect's name with that effect's own input.
      const run = effects[effect.activity] as (given: StepEffect['input']) => Promise<StepResult | undefined>;
      results.push((await run(effect.input)) ?? null);
    }
    return results;
  };
  return {
    ...effects,
    /**
     * Carries out every effect of one machine step, in order, as one activity: one round trip to Temporal
     * per step instead of one per effect. Each effect is idempotent on its own key, so a retry after a
     * failure part-way repeats nothing that was done.
     */
    async runStep(input: StepInput): Promise<StepResult[]> {
      return runEffects(input.effects);
    },
    /**
     * `runStep` as a local activity: it answers with its effects too, since a local activity's input is not
     * in the history and the managers' timeline reads the step from its result.
     */
    async runStepLocally(input: StepInput): Promise<{ effects: StepEffect[]; results: StepResult[] }> {
      return { effects: input.effects, results: await runEffects(input.effects) };
    },
  };
}

/** The effects a machine step may carry out (each also an activity of its own, as older histories ran them). */
function createCaseEffects({ db, channel = recordOnlyChannel(db) }: CaseActivityDependencies) {
  return {
    /** Creates the case's read-model row (once; a retry or continue-as-new finds it). */
    async registerCase(input: RegisterCaseInput): Promise<void> {
      await db
        .insertInto('cases')
        .values({
          id: input.caseId,
          workflow_id: input.workflowId,
          municipality: input.municipality,
          case_key: input.caseKey,
          team: input.team,
          stage: input.stage,
          priority: input.priority,
          partner_types: input.partnerTypes,
          policy: JSON.stringify(input.policy),
          started_at: new Date(input.startedAt),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await openFirstRound(db, {
        caseId: input.caseId,
        municipality: input.municipality,
        startedAt: new Date(input.startedAt),
      });
    },

    /** Mirrors the machine's state into the case row the pages read, and its result into the rounds. */
    async syncCase(input: SyncCaseInput): Promise<void> {
      await db
        .updateTable('cases')
        .set({
          stage: input.stage,
          priority: input.priority,
          round: input.round,
          partner_types: input.partnerTypes,
          next_deadline: input.nextDeadline === null ? null : new Date(input.nextDeadline),
          result: input.result,
          closed_at: input.closed ? new Date(input.at) : null,
          updated_at: new Date(input.at),
        })
        .where('id', '=', input.caseId)
        .execute();
      await syncRounds(db, { caseId: input.caseId, result: input.result, at: new Date(input.at) });
      // The inbox filters open tasks on their own copy of the partner types.
      await db
        .updateTable('tasks')
        .set({ partner_types: input.partnerTypes })
        .where('case_id', '=', input.caseId)
        .where('status', '=', 'open')
        .where(sql<boolean>`partner_types is distinct from ${sql.val(input.partnerTypes)}::text[]`)
        .execute();
    },

    /**
     * Puts a phone or visit task in the team's inbox; returns the task's database id. The inbox filters
     * (postcode area, partner types) are copied onto the task here, from PostgreSQL: the workflow never
     * carries the resident's postcode.
     */
    async createTask(input: CreateTaskInput): Promise<string> {
      const filters = await db
        .selectFrom('cases as c')
        .leftJoin('residents as r', 'r.case_key', 'c.case_key')
        .select([sql<string | null>`substr(r.postcode, 1, 4)`.as('area'), 'c.partner_types'])
        .where('c.id', '=', input.caseId)
        .executeTakeFirst();
      await db
        .insertInto('tasks')
        .values({
          area: filters?.area ?? null,
          partner_types: filters?.partner_types ?? [],
          idempotency_key: input.key,
          case_id: input.caseId,
          workflow_id: input.workflowId,
          machine_task_id: input.taskId,
          kind: input.kind,
          attempt: input.attempt,
          team: input.team,
          priority: input.priority,
          preferred_dagdeel: input.preferredDagdeel,
          due_at: new Date(input.dueAt),
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      const row = await db
        .selectFrom('tasks')
        .select('id')
        .where('idempotency_key', '=', input.key)
        .executeTakeFirstOrThrow();
      return row.id;
    },

    /** Marks the task completed (after the workflow accepted the outcome) or cancelled. */
    async closeTask(input: {
      caseId: string;
      taskId: string;
      status: 'completed' | 'cancelled';
      outcome: string | null;
      at: number;
    }): Promise<void> {
      await db
        .updateTable('tasks')
        .set({ status: input.status, outcome: input.outcome, completed_at: new Date(input.at) })
        .where('case_id', '=', input.caseId)
        .where('machine_task_id', '=', input.taskId)
        .where('status', '=', 'open')
        .execute();
    },

    /** Records a DDAS contactpoging, in the case's current round (vroegsignaalzaak). */
    async recordContactAttempt(input: ContactAttemptInput): Promise<'recorded' | 'withheld'> {
      // A letter attempt follows its letter; a letter withheld for an objection (see `sendOutbound`) was no
      // attempt, and DDAS must not count it.
      if (input.soort === 'Brief') {
        const letter = await db
          .selectFrom('outbound_messages')
          .select('status')
          .where('case_id', '=', input.caseId)
          .where('channel', '=', 'letter')
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (letter?.status === 'objected') return 'withheld';
      }
      await db
        .insertInto('contact_attempts')
        .values({
          idempotency_key: input.key,
          case_id: input.caseId,
          soort: input.soort,
          bereikt: input.bereikt,
          attempted_at: new Date(input.at),
          dagdeel: input.dagdeel,
          round: attemptRound(input.caseId),
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
      if (input.bereikt) {
        await db
          .updateTable('cases')
          .set({ first_contact_at: new Date(input.at) })
          .where('id', '=', input.caseId)
          .where('first_contact_at', 'is', null)
          .execute();
      }
      return 'recorded';
    },

    /**
     * Sends a letter (and e-mail when known) or records a card, through the outreach channel; nothing to a
     * resident on the objection register. Their notice ends the round, but it may reach the workflow only
     * after this step was decided (say, while the case was being registered): the register, committed before
     * the notice, is the last word. The withheld message is recorded once, without content, as `objected`.
     */
    async sendOutbound(input: OutboundInput): Promise<'queued' | 'already-sent' | 'withheld'> {
      if (await residentObjected(db, input.caseKey)) {
        const template = input.channel === 'card' ? 'card' : input.template;
        return recordWithheld(db, { key: input.key, caseId: input.caseId, channel: input.channel, template });
      }
      return channel.deliver(input);
    },

    /** Records the DDAS status of a signal, and the case and round (vroegsignaalzaak) it belongs to. */
    async recordSignalStatus(input: {
      signalId: string;
      status: Signaalstatus;
      /** The case the signal belongs to (absent in histories recorded before it was passed). */
      caseId?: string;
    }): Promise<void> {
      if (input.caseId) {
        await recordSignalRound(db, { signalId: input.signalId, status: input.status, caseId: input.caseId });
        return;
      }
      await db
        .updateTable('signals')
        .set({ status: input.status })
        .where('id', '=', input.signalId)
        .execute();
    },

    /** Feedback to each partner that reported: one row per signal, never the resident's reason. */
    async notifyPartner(input: NotifyPartnerInput): Promise<void> {
      if (input.signalIds.length === 0) return;
      const signals = await db
        .selectFrom('signals')
        .select(['id', 'partner_id'])
        .where('id', 'in', input.signalIds)
        .execute();
      if (signals.length === 0) return;
      await db
        .insertInto('partner_notifications')
        .values(
          signals.map((s) => ({
            idempotency_key: `${input.key}:${s.id}`,
            case_id: input.caseId,
            signal_id: s.id,
            partner_id: s.partner_id,
            message: input.message,
          })),
        )
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
    },

    /**
     * Hands the resident over to debt help: a dossier record with the consent form's date and reference.
     * The reference comes from PostgreSQL (consent_forms), where the caseworker's answer put it; only
     * histories from before 2026-12-07 carry it in `consentReference`.
     */
    async handOver(input: {
      key: string;
      caseId: string;
      caseKey: string;
      consentDate: string;
      consentFormId?: string | undefined;
      consentReference?: string | undefined;
    }): Promise<void> {
      const form = input.consentFormId
        ? await db
            .selectFrom('consent_forms')
            .select('reference')
            .where('id', '=', input.consentFormId)
            .executeTakeFirst()
        : undefined;
      const reference = form?.reference ?? input.consentReference;
      // Committed before the Update was sent, so absent only if the case's personal data went meanwhile.
      if (reference === undefined) throw new Error('consent form not found; the hand-over is retried');
      const resident = await db
        .selectFrom('residents')
        .select('id')
        .where('case_key', '=', input.caseKey)
        .executeTakeFirst();
      await db
        .insertInto('dossiers')
        .values({
          idempotency_key: input.key,
          case_id: input.caseId,
          resident_id: resident?.id ?? null,
          consent_date: input.consentDate,
          consent_reference: reference,
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
    },

    /**
     * Deletes the resident's personal data: the resident row (signals keep their anonymous facts), task
     * notes and postcode areas, and stored documents. Idempotent: a second run finds nothing left.
     *
     * The resident row goes only when no other signal needs it: a signal of the case key that no case has
     * taken up (still in the intake outbox, or handed over while this case closed, which then starts the
     * next case) is about the same resident, and its case reads their data. Then the row stays ('kept'),
     * for the next case's own deletion; this case's notes and documents go all the same. `signalIds` are the
     * signals this case knows (absent in activities scheduled before it was passed: then a signal counts
     * as taken up once a case recorded it, or when it was handed over before this case began).
     */
    async deletePersonalData(input: {
      caseId: string;
      caseKey: string;
      at: number;
      signalIds?: string[];
    }): Promise<'deleted' | 'kept'> {
      const known = input.signalIds ?? [];
      const result = await db.transaction().execute(async (trx) => {
        // Lock the resident first. Intake's insert of a signal takes a key-share lock on its resident, so an
        // intake that matched this one has committed before this lock is granted (its signal is seen below),
        // or waits for this transaction and then finds no resident (and the signal is not accepted).
        await trx
          .selectFrom('residents')
          .select('id')
          .where('case_key', '=', input.caseKey)
          .forUpdate()
          .execute();
        const waiting = await trx
          .selectFrom('signals as s')
          .select('s.id')
          .where('s.case_key', '=', input.caseKey)
          .where('s.case_id', 'is', null)
          .$if(known.length > 0, (qb) => qb.where('s.id', 'not in', known))
          .where(({ eb, or, selectFrom }) =>
            or([
              eb('s.dispatched_at', 'is', null),
              eb(
                's.dispatched_at',
                '>=',
                selectFrom('cases').select('started_at').where('id', '=', input.caseId),
              ),
            ]),
          )
          .limit(1)
          .executeTakeFirst();
        const caseIds = trx.selectFrom('cases').select('id').where('case_key', '=', input.caseKey);
        await trx
          .updateTable('tasks')
          .set({ note: null, area: null })
          .where('case_id', 'in', caseIds)
          .execute();
        await trx
          .updateTable('outbound_messages')
          .set({ content: null })
          .where('case_id', 'in', caseIds)
          .execute();
        if (!waiting) await trx.deleteFrom('residents').where('case_key', '=', input.caseKey).execute();
        // The typed references; a hand-over's dossier keeps its own copy.
        await trx.deleteFrom('consent_forms').where('case_id', 'in', caseIds).execute();
        await trx
          .updateTable('cases')
          .set({ personal_data_deleted_at: sql`coalesce(personal_data_deleted_at, ${new Date(input.at)})` })
          .where('id', '=', input.caseId)
          .execute();
        return waiting ? 'kept' : 'deleted';
      });
      await channel.forget?.({ caseKey: input.caseKey });
      return result;
    },
  };
}

export type CaseActivities = ReturnType<typeof createCaseActivities>;
type CaseEffects = ReturnType<typeof createCaseEffects>;

/** One effect of a step: the name of an effect and its input. */
export type StepEffect = {
  [K in keyof CaseEffects]: { activity: K; input: Parameters<CaseEffects[K]>[0] };
}[keyof CaseEffects];

/**
 * What each effect answered, in order (e.g. `withheld` for a letter to a resident on the objection register,
 * `kept` for a deletion that left the resident's row for a waiting signal; null for nothing): ids and
 * enums only. The managers' timeline reads them from the history.
 */
export type StepResult = string | null;

/** The effects of one machine step, carried out in order by `runStep`. */
export interface StepInput {
  caseId: string;
  effects: StepEffect[];
}
