/**
 * A user's steady requests beside a load: one request every `everyMs` (never two at a time), each answer's
 * latency and status recorded in a LatencyLog. Paused while the system is down on purpose.
 */
import { type LatencyLog, sleep } from './timing.js';

export interface Probe {
  /** No further requests until `resume` (the one in flight is still recorded). */
  pause(): void;
  resume(): void;
  /** Ends the loop; resolves once the request in flight is done. */
  stop(): Promise<void>;
}

export interface ProbeOptions {
  /** Sends one request; resolves with its HTTP status. */
  request: (signal: AbortSignal) => Promise<number>;
  log: LatencyLog;
  everyMs?: number;
  /** A request without an answer by then is recorded as a time-out. */
  timeoutMs?: number;
}

/** Why a fetch got no answer, in a word. */
function failureReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'refused';
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'cut';
  return cause?.code ?? (err instanceof Error ? err.name : 'error');
}

/** Starts the request loop at once. */
export function startProbe({ request, log, everyMs = 200, timeoutMs = 10_000 }: ProbeOptions): Probe {
  let stopped = false;
  let paused = false;
  const loop = (async () => {
    while (!stopped) {
      if (paused) {
        await sleep(50);
        continue;
      }
      const started = performance.now();
      try {
        const status = await request(AbortSignal.timeout(timeoutMs));
        log.add(performance.now() - started, status);
      } catch (err) {
        const waited = performance.now() - started;
        if ((err as Error).name === 'TimeoutError') log.fail('time-out', waited);
        else log.fail(failureReason(err));
      }
      await sleep(Math.max(0, everyMs - (performance.now() - started)));
    }
  })();
  return {
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
