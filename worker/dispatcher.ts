/**
 * The intake outbox: hands signals committed to PostgreSQL to their case workflows with
 * signalWithStart. A Temporal outage delays signals but loses none: a failed hand-over stays queued and is
 * retried on the next pass.
 *
 * A pass claims a batch for a lease in one short statement and hands it over with no transaction open
 * (a transaction held across Temporal calls would hold a pool connection, and row locks, for as long as
 * Temporal takes). Several dispatchers may run at once (claims skip locked and claimed rows); one that dies
 * mid-pass leaves its claims to run out. The workflow ignores a signal id it has already seen, so a
 * hand-over repeated after a crash is harmless.
 *
 * Failure rule: see `dispatchPending`. A signal whose resident's data is gone cannot reach a case (a case
 * reads that data); it leaves the outbox as not picked up, with the reason in `dispatch_error`.
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
  newSignals,
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
  /** Hand-overs in flight at once within a pass, once one has succeeded (default 8). */
  handOverConcurrency?: number;
  /** How long a pass's claim lasts (default CLAIM_LEASE_MS). */
  claimLeaseMs?: number;
  /** While this says so, no pass starts (partners' deliveries first: lib/intake-priority.ts). */
  holding?: () => boolean;
  /**
   * `startDispatcher` hands over no more while this many signals (of all dispatchers) wait for their case to
   * take them up (default `DEFAULT_MAX_IN_FLIGHT`); see `signalsInFlight`.
   */
  maxInFlight?: number;
}

/** Signals in flight at most, unless configured (`DISPATCH_MAX_IN_FLIGHT`): about 40 cases' first steps. */
export const DEFAULT_MAX_IN_FLIGHT = 100;

/** A signal handed over this long ago without a case counts as in flight no longer (its case may be gone). */
const IN_FLIGHT_FOR_MS = 60_000;

/**
 * Signals handed over (in the last minute) that their case has not yet taken up: their workflow tasks wait in
 * Temporal's task queue. Handing over faster than the workers take cases up only lengthens that queue, and a
 * long queue costs the server more per task (tasks no worker is waiting for are written to its database and
 * read back) and the month more time: the dispatcher keeps it short. Counted by the partial index
 * `signals_in_flight`.
 */
export async function signalsInFlight(db: Db, only?: string[]): Promise<number> {
  const row = await db
    .selectFrom('signals')
    .$if(only !== undefined, (qb) => qb.where('id', 'in', only ?? []))
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('case_id', 'is', null)
    .where('dispatched_at', 'is not', null)
    .where('dispatch_error', 'is', null)
    .where('dispatched_at', '>', sql<Date>`now() - ${`${IN_FLIGHT_FOR_MS} milliseconds`}::interval`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Rent arrears go to the wijkteam, everything else to the debt team (Team Schulddienstverlening). */
export function defaultTeamFor(partnerType: string): string {
  return partnerType === 'Huur' ? 'wijkteam' : 'schulddienstverlening';
}

/** How long a pass's claim on its signals lasts: longer than a pass takes, short enough that the signals of a dispatcher that died mid-pass wait little. */
export const CLAIM_LEASE_MS = 30_000;

/**
 * Claims the `batchSize` signals waiting longest, with every other waiting signal of their cases (a resident
 * reported by several partners this month: their signals reach the case in one hand-over), each with what
 * its case needs to know of the resident (null when their data is gone).
 */
async function claimBatch(options: DispatcherOptions) {
  const lease = `${options.claimLeaseMs ?? CLAIM_LEASE_MS} milliseconds`;
  /** Waiting and not claimed by a pass still running (of this dispatcher or another). */
  const claimable = sql<boolean>`signals.dispatched_at is null
    and (signals.dispatch_claimed_until is null or signals.dispatch_claimed_until < now())`;
  const only = options.signalIds;
  return options.db
    .with('first', (db) =>
      db
        .selectFrom('signals')
        .select(['signals.id', 'signals.municipality', 'signals.case_key'])
        .where(claimable)
        .$if(only !== undefined, (q) => q.where('signals.id', 'in', only ?? []))
        .orderBy('signals.received_at')
        .limit(options.batchSize ?? 100)
        .forUpdate()
        .skipLocked(),
    )
    .with('together', (db) =>
      db
        .selectFrom('signals')
        .innerJoin('first', (join) =>
          join
            .onRef('first.municipality', '=', 'signals.municipality')
            .onRef('first.case_key', '=', 'signals.case_key'),
        )
        .select('signals.id')
        .where(claimable)
        .$if(only !== undefined, (q) => q.where('signals.id', 'in', only ?? []))
        .forUpdate('signals')
        .skipLocked(),
    )
    .with('claimed', (db) =>
      db
        .updateTable('signals')
        .set({ dispatch_claimed_until: sql<Date>`now() + ${lease}::interval` })
        // `together` holds the rows of `first` too: each is waiting, and of its own case.
        .where('id', 'in', (w) => w.selectFrom('together').select('together.id'))
        .returning([
          'id',
          'municipality',
          'partner_id',
          'partner_type',
          'case_key',
          'amount',
          'arrears_since',
          'signal_date',
          'crisis',
          'warm_handover',
          'dispatch_attempts',
          'resident_id',
          'received_at',
        ]),
    )
    .selectFrom('claimed as s')
    .leftJoin('residents as r', 'r.id', 's.resident_id')
    .selectAll('s')
    .select(['r.id as resident_row', 'r.objected', 'r.moved_away', 'r.deceased', 'r.known_to_debt_help'])
    .orderBy('s.received_at')
    .execute();
}

type ClaimedSignal = Awaited<ReturnType<typeof claimBatch>>[number];

function factsOf(row: ClaimedSignal): SignalFacts {
  return {
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
}

/**
 * Dispatches one batch of queued signals; returns how many were handed over.
 *
 * A case's claimed signals are handed over together, in the order received, in one signalWithStart
 * (`newSignals`). Hand-overs go one at a time until one succeeds (so with Temporal down a pass costs one
 * wait), then `handOverConcurrency` at a time (default 8). A failed hand-over ends the pass (Temporal is
 * likely down), unless that case's signals have failed `SKIP_AFTER_FAILURES` times: then it is passed over,
 * so one case that keeps failing cannot hold up the ones behind it (it is still tried on every pass, and
 * its signals stay in the outbox, visible with their `dispatch_error`); a second failure in a row still
 * ends the pass, so an outage costs at most two waits.
 * Outcomes are written together at the end of the pass, and what was not tried is released.
 */
export async function dispatchPending(options: DispatcherOptions): Promise<number> {
  const teamFor = options.teamFor ?? defaultTeamFor;
  const rows = await claimBatch(options);
  if (rows.length === 0) return 0;
  const handed: string[] = [];
  const orphaned: string[] = [];
  /** The signals of each failed hand-over, with its reason. */
  const failed: Array<{ ids: string[]; reason: string }> = [];
  const policies = new Map<string, OutreachPolicy>();
  const byCase = new Map<string, ClaimedSignal[]>();
  for (const row of rows) {
    if (row.resident_row === null) orphaned.push(row.id);
    else {
      const workflowId = caseWorkflowId(row.municipality, row.case_key);
      const signals = byCase.get(workflowId);
      if (signals) signals.push(row);
      else byCase.set(workflowId, [row]);
    }
  }
  let stopped = false;
  let succeeded = false;
  /** The previous hand-over of this pass failed. */
  let lastFailed = false;

  /** Hands a case's claimed signals (in the order received) over in one signalWithStart. */
  const handOver = async ([workflowId, signals]: [string, ClaimedSignal[]]): Promise<void> => {
    const row = signals[0]!;
    const ids = signals.map((s) => s.id);
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
      steps: 'local',
      ...options.extraInput,
    };
    // Also with the signal: it starts the next case when it reaches this one as it closes.
    const start: CaseStart = { team: input.team, policy: input.policy };
    try {
      // A bounded wait: with Temporal down the pass gives up and the signal waits for the next one.
      await options.client.withDeadline(Date.now() + (options.handOverTimeoutMs ?? 10_000), () =>
        options.client.workflow.signalWithStart(CASE_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: options.taskQueue,
          args: [input],
          signal: newSignals,
          signalArgs: [signals.map(factsOf), start],
          // A closed case may be followed by a new one for the same resident.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        }),
      );
      handed.push(...ids);
      succeeded = true;
      lastFailed = false;
    } catch (err) {
      // The message of a Temporal client error holds no personal data (only ids go in).
      const reason = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
      failed.push({ ids, reason });
      options.logger?.warn({ signalIds: ids, reason }, 'signal hand-over to Temporal failed; will retry');
      // A case whose signals failed again and again is passed over (a new signal joining it does not reset that).
      const attempts = Math.max(...signals.map((s) => s.dispatch_attempts));
      if (attempts + 1 < SKIP_AFTER_FAILURES || lastFailed) stopped = true;
      lastFailed = true;
    }
  };
  const cases = [...byCase.entries()];
  let next = 0;
  const lane = async (untilSuccess: boolean) => {
    while (!stopped && next < cases.length && !(untilSuccess && succeeded)) {
      await handOver(cases[next++]!);
    }
  };
  await lane(true);
  await Promise.all(Array.from({ length: Math.max(1, options.handOverConcurrency ?? 8) }, () => lane(false)));

  if (orphaned.length > 0) {
    await options.db
      .updateTable('signals')
      .set({
        dispatched_at: new Date(),
        dispatch_error: RESIDENT_GONE,
        status: 'Niet opgepakt: andere reden',
        dispatch_claimed_until: null,
      })
      .where('id', 'in', orphaned)
      .execute();
    options.logger?.warn(
      { signalIds: orphaned },
      'signals without resident data left the outbox not picked up',
    );
  }
  if (handed.length > 0) {
    await options.db
      .updateTable('signals')
      .set({ dispatched_at: new Date(), dispatch_error: null, dispatch_claimed_until: null })
      .where('id', 'in', handed)
      .execute();
  }
  for (const { ids, reason } of failed) {
    await options.db
      .updateTable('signals')
      .set({ dispatch_attempts: sql`dispatch_attempts + 1`, dispatch_error: reason })
      .where('id', 'in', ids)
      .execute();
  }
  // Whatever was not handed over is claimable again at once.
  await options.db
    .updateTable('signals')
    .set({ dispatch_claimed_until: null })
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .where('dispatched_at', 'is', null)
    .execute();
  return handed.length;
}

/**
 * Runs `dispatchPending` and `dispatchObjections` in `concurrency` loops (default 1), each passing again at
 * once while there is work and every `intervalMs` when the queues are empty, until stopped. A pass uses a
 * connection only for its short statements. While `maxInFlight` signals wait for their cases, no signals
 * are handed over (the loop looks again every 50 ms); a pass claims at most the room left.
 */
export function startDispatcher(options: DispatcherOptions & { intervalMs?: number; concurrency?: number }): {
  stop(): Promise<void>;
} {
  let stopped = false;
  const wakers = new Set<() => void>();
  const intervalMs = options.intervalMs ?? 1_000;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const runLoop = async () => {
    let objectionsAt = 0;
    while (!stopped) {
      if (options.holding?.()) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      let busy = false;
      let full = false;
      try {
        const room = maxInFlight - (await signalsInFlight(options.db, options.signalIds));
        full = room <= 0;
        if (!full) {
          const batchSize = Math.min(options.batchSize ?? 100, room);
          busy = (await dispatchPending({ ...options, batchSize })) > 0;
        }
      } catch (err) {
        options.logger?.error({ err }, 'dispatcher pass failed');
      }
      // While the cases catch up, objections are still delivered, once per interval.
      if (!full || Date.now() - objectionsAt >= intervalMs) {
        objectionsAt = Date.now();
        try {
          // After the signals: an objection waits for its resident's signals still in the intake outbox.
          if ((await dispatchObjections(options)) > 0) busy = true;
        } catch (err) {
          options.logger?.error({ err }, 'objection dispatcher pass failed');
        }
      }
      if (busy) continue;
      await new Promise<void>((resolve) => {
        wakers.add(resolve);
        setTimeout(
          () => {
            wakers.delete(resolve);
            resolve();
          },
          full ? 50 : intervalMs,
        );
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
