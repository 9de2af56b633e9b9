/**
 * What a case costs Temporal before it first waits: the events of its history up to and including the first
 * TIMER_STARTED, and the activities among them (scheduled ones, and local activities by their markers).
 */
import type { Client } from '@temporalio/client';
import type { temporal as pt } from '@temporalio/proto';
import proto from '@temporalio/proto';

const EventType = proto.temporal.api.enums.v1.EventType;

export interface HistoryShape {
  workflowId: string;
  /** Events up to and including the first TIMER_STARTED (all events when there is none). */
  events: number;
  /** ACTIVITY_TASK_SCHEDULED events among them. */
  activities: number;
  /** Local activities among them (their MARKER_RECORDED events). */
  localActivities: number;
  /** Whether a timer was started (the case waits on one). */
  waits: boolean;
}

/** The shape of one history's beginning (see the module comment). */
export function shapeBeforeFirstWait(
  workflowId: string,
  events: readonly pt.api.history.v1.IHistoryEvent[],
): HistoryShape {
  const timer = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
  const before = timer === -1 ? events : events.slice(0, timer + 1);
  const count = (type: number) => before.filter((e) => e.eventType === type).length;
  const localActivities = before.filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
      /local_?activity/i.test(e.markerRecordedEventAttributes?.markerName ?? ''),
  ).length;
  return {
    workflowId,
    events: before.length,
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivities,
    waits: timer !== -1,
  };
}

/** Fetches each workflow's (latest run's) history, a few at a time; a history that fails to load is left out. */
export async function sampleHistories(
  client: Client,
  workflowIds: readonly string[],
  concurrency = 4,
): Promise<HistoryShape[]> {
  const shapes: HistoryShape[] = [];
  let next = 0;
  const lane = async () => {
    while (next < workflowIds.length) {
      const workflowId = workflowIds[next++]!;
      try {
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        shapes.push(shapeBeforeFirstWait(workflowId, history.events ?? []));
      } catch {
        // Counted by its absence: the report says how many were sampled.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return shapes;
}
