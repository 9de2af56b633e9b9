/**
 * The `patched()` ids of the case workflow: each marks a change of what the workflow does, so histories
 * recorded before it (no marker) replay as they ran, and runs that record the marker take the new path.
 * Remove an id (and the old path) only once no history without its marker can still be replayed.
 */

/**
 * The `patched()` id of the objection handling (the `objectionRegistered` signal and the `objection` flag
 * of a conversation). Histories recorded before it carry no marker and replay as they ran.
 */
export const OBJECTION_PATCH = 'objection-ends-round';

/**
 * The `patched()` id of screening a signal that would start a round as objected when an objection notice
 * is queued behind it, so no first letter goes out before the notice ends the round.
 */
export const OBJECTION_SCREENING_PATCH = 'objection-screens-starting-signal';

/**
 * The `patched()` id of keeping a signal that reaches the case once its machine has closed (while the
 * personal data is deleted, or as a handover ends the case): the closing run continues as new as a new case
 * for it, where before it was processed against the final state and ignored.
 */
export const FOLLOW_UP_PATCH = 'signal-at-close-starts-new-case';

/**
 * The `patched()` id of carrying out a step's effects (registration, signal statuses, letters, contact
 * attempts, tasks, partner feedback, the read model) in one activity, `runStep`, instead of one activity
 * each: a case's first step then costs one activity round trip instead of five.
 */
export const ONE_ACTIVITY_PER_STEP_PATCH = 'one-activity-per-step';

/**
 * The `patched()` id of carrying out the steps of signals queued together (a case's signals handed over at
 * once) in one local activity, instead of one each: the first step of a resident reported by three partners
 * is then one round trip. Recorded only when two or more signals are queued together.
 */
export const GROUPED_SIGNALS_PATCH = 'grouped-signal-steps';
