/**
 * The intake outbox: hands signals committed to PostgreSQL to their case workflows with
 * signalWithStart. A Temporal outage delays signals but loses none: a failed hand-over stays queued and is
 * retried on the next pass. Several dispatchers may run at once (rows are claimed with SKIP LOCKED).
 * The workflow ignores a signal id it has already seen, so a hand-over repeated after a crash is harmless.
 * A failed hand-over ends the pass (Temporal is likely down), unless that signal has failed
 * `SKIP_AFTER_FAILURES` times: then it is passed over, so one signal that keeps failing cannot hold up the
 * ones behind it (it is still tried on every pass, and stays in the outbox, visible with its `dispatch_error`);
 * a second failure in a row still ends the pass. A signal whose resident's data is gone cannot reach a
 * case (a case reads that data); it leaves the outbox as not picked up, with the reason in `dispatch_error`.
 * The same loops deliver the objection outbox (`objection-dispatcher.ts`).
 */
import { type Client, WorkflowIdReusePolicy } from '@temporalio/client';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Logger } from '../lib/logger.js';
import type { SignalFacts } from '../workflows/case-machine.js';
import type { Signaalpartner } from '../workflows/ddas.js';
import {
  CASE_WORKFLOW_TYPE,
  type CaseStart,
  type CaseWorkflowInput,
  caseWorkflowId,
  newSignal,
} from '../workflows/messages.js';
import type { OutreachPolicy } from '../workflows/policy.js';
import { dispatchObjections, type ObjectionDispatchOptions } from './objection-dispatcher.js';

/** After this many failed hand-overs a signal no longer ends the pass when it fails again. */
export const SKIP_AFTER_FAILURES = 5;

/** `dispatch_error` of a signal whose resident's data was deleted before it was handed over. */
export const RESIDENT_GONE = 'resident data deleted before hand-over: not picked up';

export interface DispatcherOptions extends Pick<ObjectionDispatchOptions, 'objectionCaseKeys'> {
  db: Db;
  client: Client;
  taskQueue: string;
  /** The policy each new case starts with (recorded with the case). */
  policyFor(municipality: string): OutreachPolicy;
  /** Which team handles a case, from the first signal's partner type. */
  teamFor?(partnerType: string): string;
  logger?: Logger;
  batchSize?: number;
  /** Only these signals (tests share one database and must not hand over each other's signals). */
  signalIds?: string[];
  /** How long one hand-over may take before the pass gives up (default 10 s). */
  handOverTimeoutMs?: number;
  /** Overrides start arguments (tests force early continue-as-new). */
  extraInput?: Partial<CaseWorkflowInput>;
}

/** Rent arrears go to the wijkteam, everything else to the debt team (Team Schulddienstverlening). */
export function defaultTeamFor(partnerType: string): string {
  return partnerType === 'Huur' ? 'wijkteam' : 'schulddienstverlening';
}

/**
 * Dispatches one batch of queued signals; returns how many were handed over. The rows stay locked while
 * their hand-overs run one after the other (so the Temporal calls in flight are the number of passes
 * running at once), and are marked handed over together, in one statement at the end of the pass.
 */
export async function dispatchPending(options: DispatcherOptions): Promise<number> {
  const teamFor = options.teamFor ?? defaultTeamFor;
  return options.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('signals')
      .leftJoin('residents', 'residents.id', 'signals.resident_id')
      .select([
        'signals.id',
        'signals.municipality',
        'signals.partner_id',
        'signals.partner_type',
        'signals.case_key',
        'signals.amount',
        'signals.arrears_since',
        'signals.signal_date',
        'signals.crisis',
        'signals.warm_handover',
        'signals.dispatch_attempts',
        'residents.id as resident_id',
        'residents.objected',
        'residents.moved_away',
        'residents.deceased',
        'residents.known_to_debt_help',
      ])
      .where('signals.dispatched_at', 'is', null)
      .$if(options.signalIds !== undefined, (qb) => qb.where('signals.id', 'in', options.signalIds ?? []))
      .orderBy('signals.received_at')
      .limit(options.batchSize ?? 100)
      .forUpdate('signals')
      .skipLocked()
      .execute();
    const handed: string[] = [];
    const orphaned: string[] = [];
    const policies = new Map<string, OutreachPolicy>();
    /** The previous hand-over of this pass failed. */
    let lastFailed = false;
    for (const row of rows) {
      if (row.resident_id === null) {
        orphaned.push(row.id);
        continue;
      }
      const facts: SignalFacts = {
        signalId: row.id,
        partnerId: row.partner_id,
        partnerType: row.partner_type as Signaalpartner,
        amount: Number(row.amount),
        arrearsSince: row.arrears_since,
        signalDate: row.signal_date,
        crisis: row.crisis,
        warmHandover: row.warm_handover,
        screening: {
          objected: row.objected === true,
          movedAway: row.moved_away === true,
          deceased: row.deceased === true,
          knownToDebtHelp: row.known_to_debt_help === true,
        },
      };
      let policy = policies.get(row.municipality);
      if (!policy) {
        policy = options.policyFor(row.municipality);
        policies.set(row.municipality, policy);
      }
      const input: CaseWorkflowInput = {
        municipality: row.municipality,
        caseKey: row.case_key,
        team: teamFor(row.partner_type),
        policy,
        ...options.extraInput,
      };
      // Also with the signal: it starts the next case when it reaches this one as it closes.
      const start: CaseStart = { team: input.team, policy: input.policy };
      try {
        // A bounded wait: with Temporal down the pass gives up and the signal waits for the next one.
        await options.client.withDeadline(Date.now() + (options.handOverTimeoutMs ?? 10_000), () =>
          options.client.workflow.signalWithStart(CASE_WORKFLOW_TYPE, {
            workflowId: caseWorkflowId(row.municipality, row.case_key),
            taskQueue: options.taskQueue,
            args: [input],
            signal: newSignal,
            signalArgs: [facts, start],
            // A closed case may be followed by a new one for the same resident.
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          }),
        );
        handed.push(row.id);
        lastFailed = false;
      } catch (err) {
        // The message of a Temporal client error holds no personal data (only ids go in).
        const reason = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
        await trx
          .updateTable('signals')
          .set({ dispatch_attempts: sql`dispatch_attempts + 1`, dispatch_error: reason })
          .where('id', '=', row.id)
          .execute();
        options.logger?.warn({ signalId: row.id, reason }, 'signal hand-over to Temporal failed; will retry');
        // Temporal is likely down: leave the rest queued for the next pass. A signal that has failed again
        // and again is more likely the problem itself: the next one gets its turn, but a second failure in a
        // row ends the pass (Temporal down after all), so an outage costs at most two waits per pass.
        if (row.dispatch_attempts + 1 < SKIP_AFTER_FAILURES || lastFailed) break;
        lastFailed = true;
      }
    }
    if (orphaned.length > 0) {
      await trx
        .updateTable('signals')
        .set({
          dispatched_at: new Date(),
          dispatch_error: RESIDENT_GONE,
          status: 'Niet opgepakt: andere reden',
        })
        .where('id', 'in', orphaned)
        .execute();
      options.logger?.warn(
        { signalIds: orphaned },
        'signals without resident data left the outbox not picked up',
      );
    }
    if (handed.length > 0) {
      await trx
        .updateTable('signals')
        .set({ dispatched_at: new Date(), dispatch_error: null })
        .where('id', 'in', handed)
        .execute();
    }
    return handed.length;
  });
}

/**
 * Runs `dispatchPending` and `dispatchObjections` in `concurrency` loops (default 1; each holds one
 * database connection while a pass runs and has one Temporal call in flight, so more loops start cases
 * faster where the pool allows), each passing again at once while there is work and every `intervalMs`
 * when the queues are empty, until stopped.
 */
export function startDispatcher(options: DispatcherOptions & { intervalMs?: number; concurrency?: number }): {
  stop(): Promise<void>;
} {
  let stopped = false;
  const wakers = new Set<() => void>();
  const runLoop = async () => {
    while (!stopped) {
      let busy = false;
      try {
        busy = (await dispatchPending(options)) > 0;
      } catch (err) {
        options.logger?.error({ err }, 'dispatcher pass failed');
      }
      try {
        // After the signals: an objection waits for its resident's signals still in the intake outbox.
        if ((await dispatchObjections(options)) > 0) busy = true;
      } catch (err) {
        options.logger?.error({ err }, 'objection dispatcher pass failed');
      }
      if (busy) continue;
      await new Promise<void>((resolve) => {
        wakers.add(resolve);
        setTimeout(() => {
          wakers.delete(resolve);
          resolve();
        }, options.intervalMs ?? 1_000);
      });
    }
  };
  const loops = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, runLoop);
  return {
    async stop() {
      stopped = true;
      for (const wake of wakers) wake();
      await Promise.all(loops);
    },
  };
}
