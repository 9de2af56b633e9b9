/**
 * Logs every failed activity attempt once, with what a diagnosis needs (error class, message, PostgreSQL
 * code, stack; activity type, workflow id, attempt) and never the activity's arguments. The workflow id
 * holds opaque ids only (`case:<municipality>:<caseKey>`).
 *
 * A PostgreSQL error is then scrubbed in place (lib/errors.ts), since the SDK logs the error itself and
 * records its message and stack as the failure in Temporal's history.
 */
import { CompleteAsyncError } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { scrubDatabaseError, serializeError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

/**
 * The activity interceptor; without a logger it logs through the activity's own logger (Temporal's
 * Runtime logger), with the error already serialized.
 */
export function activityFailureLogging(logger?: Logger): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          // A cancelled attempt (Temporal's decision) or one completing asynchronously did not fail.
          if (ctx.cancellationSignal.aborted || err instanceof CompleteAsyncError) throw err;
          const { activityId, activityType, attempt, workflowExecution, workflowType } = ctx.info;
          const fields = {
            activityType,
            activityId,
            workflowId: workflowExecution?.workflowId,
            workflowType,
            attempt,
          };
          // A business refusal (not retried, or marked benign) is expected; anything else is a defect.
          const refusal =
            err instanceof ApplicationFailure &&
            (err.nonRetryable || err.category === ApplicationFailureCategory.BENIGN);
          const message = refusal ? 'activity refused' : 'activity attempt failed';
          if (logger) logger[refusal ? 'warn' : 'error']({ ...fields, err }, message);
          else ctx.log[refusal ? 'warn' : 'error'](message, { ...fields, err: serializeError(err) });
          scrubDatabaseError(err);
          throw err;
        }
      },
    },
  });
}
