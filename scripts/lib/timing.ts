/** Latencies, percentiles and progress lines for the benchmark scripts. */

/** The p-th percentile (0-100, nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50, p99 and the worst of a series, in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  worst: number;
}

/** The requests of one kind: latency of each answer, count per status, and failures without an answer. */
export class LatencyLog {
  private readonly samples: number[] = [];
  private sorted: number[] | null = null;
  /** Answers per HTTP status. */
  readonly statuses = new Map<number, number>();
  /** Requests that got no answer (refused, cut, timed out), per reason. */
  readonly failures = new Map<string, number>();

  /** Records an answered request. */
  add(ms: number, status: number): void {
    this.samples.push(ms);
    this.sorted = null;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  /** Records a request without an answer; a time-out also counts its wait as a latency. */
  fail(reason: string, waitedMs?: number): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    if (waitedMs !== undefined) {
      this.samples.push(waitedMs);
      this.sorted = null;
    }
  }

  /** Answers with a 5xx status. */
  get serverErrors(): number {
    let n = 0;
    for (const [status, count] of this.statuses) if (status >= 500) n += count;
    return n;
  }

  summary(): LatencySummary {
    this.sorted ??= [...this.samples].sort((a, b) => a - b);
    const s = this.sorted;
    return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), worst: s.at(-1) ?? Number.NaN };
  }

  /** `200 x812, 503 x2; refused x3`. */
  describeOutcomes(): string {
    const answers = [...this.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s} x${n}`);
    const failures = [...this.failures].map(([reason, n]) => `${reason} x${n}`);
    return [answers.join(', ') || 'no answers', ...(failures.length ? [failures.join(', ')] : [])].join('; ');
  }
}

/** Milliseconds with one decimal below 10, else whole ('-' for none). */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** Prints `describe()` every `everyMs` with the seconds since `since`, until stopped (long phases show progress). */
export function progress(describe: () => Promise<string>, since: number, everyMs = 2_000): { stop(): void } {
  let stopped = false;
  const timer = setInterval(() => {
    describe()
      .then((text) => {
        if (!stopped)
          process.stdout.write(`    ${((performance.now() - since) / 1000).toFixed(0)} s: ${text}\n`);
      })
      .catch(() => {});
  }, everyMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (wait: number) => new Promise<void>((resolve) => setTimeout(resolve, wait));

/** `promise`'s value, or `fallback` once `wait` ms have passed first (the timer is cleared either way). */
export async function within<T, F>(promise: Promise<T>, wait: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => {
        timer = setTimeout(() => resolve(fallback), wait);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
