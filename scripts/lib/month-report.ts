/**
 * The month benchmark's figures and report (`npm run bench:month`): the month's first steps turned into
 * times and rates, and the lines it prints, each goal of issue 16 with met / NOT met, the `MONTH-BENCH`
 * line for scripts last.
 */
import type { BaselineResult } from './baseline.js';
import type { HistoryShape } from './case-histories.js';
import type { CaseFirstStep, PipelineCounts } from './first-letters.js';
import type { MonthFile } from './month.js';
import type { SystemCpu } from './process-usage.js';
import { type LatencyLog, ms, percentile } from './timing.js';
import type { BatchOutcome } from './upload.js';

/** The goals of issue 16 on this 2-core machine. */
export const GOALS = {
  baselineRatio: 0.7,
  monthRows: 20_000,
  monthFirstLettersS: 15 * 60,
  eventsBeforeWait: 15,
  acceptRowsPerS: 10_000,
  openCases: 100_000,
  rssOpenBytes: 1024 ** 3,
};

/** Number formats of the report: whole with separators, seconds, MiB, fixed digits or `n/a`. */
export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const seconds = (wait: number) => `${(wait / 1000).toFixed(1)} s`;

/** One report line for a partner's batch: its rows, answer, time and counts. */
export function batchLine(b: BatchOutcome<{ path: string; type: string; rows: number }>): string {
  const c = b.counts;
  const counts = c
    ? `received ${int(c.received)}, accepted ${int(c.accepted)}, duplicate ${int(c.duplicate)}, rejected ${int(c.rejected)}`
    : (b.error ?? '');
  const when = b.answeredAfter === null ? '' : ` after ${seconds(b.answeredAfter)}`;
  return `    ${b.file.type.padEnd(22)} ${int(b.file.rows).padStart(7)} rows  ${b.status ?? 'no answer'}${when}  ${counts}`;
}
export const mb = (bytes: number) => Math.round(bytes / 1024 ** 2);
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
export const fixed = (value: number | null, digits: number) =>
  value === null ? 'n/a' : value.toFixed(digits);

/** The month's figures from its cases' first steps (`firstPostWall`: epoch ms of the first post). */
export function monthFigures(steps: readonly CaseFirstStep[], firstPostWall: number) {
  const done = steps.filter((s): s is CaseFirstStep & { doneAt: Date } => s.doneAt !== null);
  const latencies = done
    .map((s) => Math.max(0, s.doneAt.getTime() - s.firstSignalAt.getTime()))
    .sort((a, b) => a - b);
  const lastDone = done.reduce((t, s) => Math.max(t, s.doneAt.getTime()), 0);
  const firstCommit = steps.reduce(
    (t, s) => Math.min(t, s.firstSignalAt.getTime()),
    Number.POSITIVE_INFINITY,
  );
  const span = lastDone - firstCommit;
  return {
    cases: steps.length,
    done: done.length,
    letters: done.filter((s) => s.letter).length,
    byStage: countsBy(done, (s) => (s.letter ? 'first letter' : `no letter, ${s.stage}`)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    /** From the first post to the last first step (DB clock). */
    lastDoneAfterMs: done.length > 0 ? lastDone - firstPostWall : null,
    /** Cases through their first step per second, from the first signal committed to the last first step. */
    casesPerS: done.length > 0 && span > 0 ? done.length / (span / 1000) : null,
  };
}

/** `a 12, b 3`: how many of `items` have each key. */
function countsBy<T>(items: readonly T[], key: (item: T) => string): string[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${int(n)}`);
}

/** The mean, or null for none. */
function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

export type MonthFigures = ReturnType<typeof monthFigures>;

/** Everything one run measured. */
export interface MonthMeasurements {
  rows: number;
  batches: BatchOutcome<MonthFile>[];
  /** Where the wait for the month ended: ms from the first post to every first step seen (null: not reached). */
  wait: { allDoneMs: number | null; last: PipelineCounts | null; note: string | null };
  /** From the first post to the last hand-over or case start (null: not every case started). */
  allStartedMs: number | null;
  figures: MonthFigures;
  shapes: HistoryShape[];
  /** CPU seconds used during the month (first post to the end of the wait). */
  cpu: SystemCpu;
  monthMs: number;
  /** Peak RSS of the app process during the month (bytes). */
  peakRss: number;
  /** With --open: the app's RSS with the open cases, and how many had their first letter. */
  openRss: { rss: number; open: number } | null;
  baseline: BaselineResult | null;
  uploads5xx: number;
  /** GET /health every second during the whole run. */
  health: LatencyLog;
}

/** The report: each figure, each goal of issue 16 with met / NOT met, and the `MONTH-BENCH` line last. */
export function formatMonthReport(r: MonthMeasurements): string {
  const { batches, wait, figures, shapes, cpu, baseline } = r;
  const args = { rows: r.rows };
  const serverErrors = r.uploads5xx + r.health.serverErrors;
  const lastAnswer = Math.max(...batches.map((b) => b.answeredAfter ?? 0));
  const acceptRate =
    batches.every((b) => b.status === 202) && lastAnswer > 0 ? args.rows / (lastAnswer / 1000) : null;
  const accepted = batches.reduce((n, b) => n + (b.counts?.accepted ?? 0), 0);
  const firstLettersS = wait.allDoneMs === null ? null : (figures.lastDoneAfterMs ?? wait.allDoneMs) / 1000;
  const ratio =
    figures.casesPerS !== null && baseline?.perSecond ? figures.casesPerS / baseline.perSecond : null;
  const events = mean(shapes.map((s) => s.events));
  const maxEvents = shapes.reduce((m, s) => Math.max(m, s.events), 0);
  const activities = mean(shapes.map((s) => s.activities));
  const local = mean(shapes.map((s) => s.localActivities));
  const wall = r.monthMs / 1000;
  const cpuLine = (name: string, s: number) =>
    `${name} ${s.toFixed(1)} s (${Math.round((s / wall) * 100)}% of a core)`;
  // A month of another size: its first letters at the measured case rate, for the 20,000-row goal.
  const projected =
    figures.casesPerS !== null && figures.cases > 0
      ? (figures.cases * (GOALS.monthRows / args.rows)) / figures.casesPerS
      : null;
  const monthGoal =
    args.rows >= GOALS.monthRows
      ? verdict(firstLettersS !== null && firstLettersS < GOALS.monthFirstLettersS)
      : `not measured (${int(args.rows)} rows; at this case rate 20,000 rows would take about ` +
        `${projected === null ? 'n/a' : `${(projected / 60).toFixed(1)} min`}: ` +
        `${projected !== null && projected < GOALS.monthFirstLettersS ? 'would be met' : 'would NOT be met'})`;
  const openGoal = !r.openRss
    ? 'not measured (run with --open 100000)'
    : r.openRss.open >= GOALS.openCases
      ? verdict(r.openRss.rss < GOALS.rssOpenBytes)
      : `not measured at 100,000 (${int(r.openRss.open)} open cases: ${mb(r.openRss.rss)} MB)`;
  const health = r.health.summary();
  const lines = [
    '',
    `Month benchmark: ${int(args.rows)} rows in ${batches.length} CSV batches at the same time, npm start's embedded defaults` +
      (r.openRss ? `, ${int(r.openRss.open)} open cases before` : ''),
    '  batches:',
    ...batches.map(batchLine),
    `  accepted                ${acceptRate === null ? 'not measured (not every batch got 202)' : `${int(acceptRate)} rows/s`}` +
      ` (all rows / first post to last 202; ${int(accepted)} signals stored)`,
    `  every case started      ${r.allStartedMs === null ? 'not reached' : seconds(r.allStartedMs)} after the first post` +
      ` (last signals.dispatched_at / cases.started_at; ${int(wait.last?.handedOver ?? 0)} of ${int(wait.last?.stored ?? 0)} handed over, ${int(figures.cases)} cases)`,
    `  every first letter      ${firstLettersS === null ? `not reached (${int(figures.done)} of ${int(figures.cases)} cases)` : `${firstLettersS.toFixed(1)} s`} after the first post` +
      ` (${figures.byStage.join(', ')})${wait.note ? `; ${wait.note}` : ''}`,
    `  commit to first letter  p50 ${ms(figures.p50)}, p99 ${ms(figures.p99)} (each case's earliest signal to its first step)`,
    `  case rate               ${fixed(figures.casesPerS, 1)} cases/s (first signal committed to last first letter)`,
    `  baseline                ${baseline?.perSecond ? `${baseline.perSecond.toFixed(1)} empty workflows/s` : 'not measured'}` +
      (baseline
        ? ` (${int(baseline.completed)} of ${int(baseline.started)} started completed in ${seconds(baseline.elapsedMs)}` +
          `${baseline.failed ? `, ${baseline.failed} failed` : ''}${baseline.cut ? ', cut by the time limit' : ''})`
        : ''),
    `  ratio to baseline       ${fixed(ratio, 2)}`,
    `  history before 1st wait ${fixed(events, 1)} events per case (max ${maxEvents}), ${fixed(activities, 1)} activities` +
      ` + ${fixed(local, 1)} local (${shapes.length} letter cases sampled, ${shapes.filter((s) => !s.waits).length} without a timer)`,
    `  app RSS                 peak ${mb(r.peakRss)} MB during the month (worker and API in one process)` +
      (r.openRss ? `; ${mb(r.openRss.rss)} MB with ${int(r.openRss.open)} open cases` : ''),
    `  CPU during the month    ${cpuLine('Temporal', cpu.temporal)}, ${cpuLine('PostgreSQL', cpu.postgres)}, ` +
      `${cpuLine('Node', cpu.node)} over ${wall.toFixed(0)} s`,
    `  5xx answers             ${serverErrors} (uploads ${r.uploads5xx}, GET /health every 1 s ${r.health.serverErrors}; ` +
      `/health p99 ${ms(health.p99)}, ${r.health.describeOutcomes()})`,
    '',
    'Goals (issue 16):',
    `  case rate >= 70% of the empty-workflow rate: ${fixed(ratio === null ? null : ratio * 100, 0)}%: ${verdict(ratio !== null && ratio >= GOALS.baselineRatio)}`,
    `  a 20,000-row month has every first letter in < 15 min: ${monthGoal}`,
    `  <= 15 history events per case before its first wait: max ${maxEvents}, mean ${fixed(events, 1)}: ` +
      verdict(shapes.length > 0 && maxEvents <= GOALS.eventsBeforeWait),
    `  intake >= 10,000 rows/s while the pipeline runs, 0 answers 5xx: ${acceptRate === null ? 'n/a' : int(acceptRate)} rows/s, ` +
      `${serverErrors} 5xx: ${verdict(acceptRate !== null && acceptRate >= GOALS.acceptRowsPerS && serverErrors === 0)}`,
    `  worker RSS < 1 GiB with 100,000 open cases: ${openGoal}`,
    '',
    `MONTH-BENCH rows=${args.rows} accept_rows_per_s=${acceptRate === null ? 'n/a' : Math.round(acceptRate)} ` +
      `first_letters_s=${fixed(firstLettersS, 1)} cases_per_s=${fixed(figures.casesPerS, 2)} ` +
      `baseline_per_s=${fixed(baseline?.perSecond ?? null, 2)} baseline_ratio=${fixed(ratio, 2)} ` +
      `events_per_case=${fixed(events, 1)} errors_5xx=${serverErrors} worker_rss_mb=${mb(r.peakRss)}` +
      (r.openRss ? ` worker_rss_open_mb=${mb(r.openRss.rss)}` : ''),
  ];
  return lines.join('\n');
}
