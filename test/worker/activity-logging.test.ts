import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { activityFailureLogging } from '../../worker/activity-logging.js';
import { memoryLogger } from '../helpers/logs.js';

const SURNAME = 'Fuzzkowski';

/** What the SDK hands an activity interceptor: the attempt's context (only the fields the interceptor reads). */
function activityContext(log = { warn: vi.fn(), error: vi.fn() }) {
  const ctx = {
    info: {
      activityId: '3',
      activityType: 'sendLetter',
      attempt: 2,
      workflowExecution: { workflowId: 'case:GM1911:0193b7c2', runId: 'run-1' },
      workflowType: 'caseWorkflow',
    },
    cancellationSignal: new AbortController().signal,
    log,
  };
  return { ctx: ctx as unknown as Context, log };
}

/** Runs one attempt through the interceptor; `run` plays the activity, called with the attempt's arguments. */
async function attempt(
  ctx: Context,
  logger: ReturnType<typeof memoryLogger>['logger'] | undefined,
  run: () => unknown,
) {
  const interceptor = activityFailureLogging(logger)(ctx).inbound!;
  const input: ActivityExecuteInput = { args: [{ surname: SURNAME }], headers: {} };
  return interceptor.execute!(input, async () => run());
}

function databaseError(): pg.DatabaseError {
  return Object.assign(
    new pg.DatabaseError(`invalid input syntax for type integer: "${SURNAME}"`, 0, 'error'),
    {
      code: '22P02',
      severity: 'ERROR',
      detail: `Failing row contains (${SURNAME}).`,
      where: `SQL statement with ${SURNAME}`,
    },
  );
}

describe('activityFailureLogging', () => {
  it('logs a failed attempt once with the error, activity type, workflow id and attempt, never the arguments', async () => {
    const { lines, logger } = memoryLogger();
    const { ctx } = activityContext();
    const err = databaseError();
    await expect(attempt(ctx, logger, () => Promise.reject(err))).rejects.toBe(err);

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      level: 50,
      msg: 'activity attempt failed',
      activityType: 'sendLetter',
      workflowId: 'case:GM1911:0193b7c2',
      attempt: 2,
      err: {
        type: 'DatabaseError',
        code: '22P02',
        message: 'invalid input syntax for type integer: "…"',
        stack: expect.any(String),
      },
    });
    expect(lines[0]).not.toContain(SURNAME);
  });

  it('scrubs the PostgreSQL error it rethrows, since the SDK logs it and records it in the history', async () => {
    const { logger } = memoryLogger();
    const err = databaseError();
    await expect(attempt(activityContext().ctx, logger, () => Promise.reject(err))).rejects.toBe(err);
    expect(err.message).toBe('invalid input syntax for type integer: "…"');
    expect(err.detail).toBeUndefined();
    expect(JSON.stringify(err)).not.toContain(SURNAME);
    expect(err.stack).not.toContain(SURNAME);
  });

  it('logs a business refusal (a non-retryable ApplicationFailure) as a warning', async () => {
    const { lines, logger } = memoryLogger();
    const refusal = ApplicationFailure.nonRetryable('outcome not allowed now', 'OutcomeNotAllowed');
    await expect(attempt(activityContext().ctx, logger, () => Promise.reject(refusal))).rejects.toBe(refusal);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      msg: 'activity refused',
      err: { type: 'ApplicationFailure', failureType: 'OutcomeNotAllowed', nonRetryable: true },
    });
  });

  it("without a logger, logs through the activity's own logger with the error serialized", async () => {
    const { ctx, log } = activityContext();
    await expect(attempt(ctx, undefined, () => Promise.reject(databaseError()))).rejects.toThrow();
    expect(log.error).toHaveBeenCalledTimes(1);
    const [message, meta] = log.error.mock.calls[0]!;
    expect(message).toBe('activity attempt failed');
    expect(meta).toMatchObject({ activityType: 'sendLetter', attempt: 2, err: { code: '22P02' } });
    expect(JSON.stringify(meta)).not.toContain(SURNAME);
  });

  it('logs nothing for an attempt that succeeds', async () => {
    const { lines, logger } = memoryLogger();
    await expect(attempt(activityContext().ctx, logger, () => 'sent')).resolves.toBe('sent');
    expect(lines).toEqual([]);
  });
});
