import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** A human task (phone call or home visit) in the caseworkers' inbox. */
export interface TasksTable {
  id: Generated<string>;
  /** `<workflowId>:<machine step>`: a retried activity finds the row instead of adding one. */
  idempotency_key: string;
  case_id: string;
  workflow_id: string;
  machine_task_id: string;
  kind: 'phone' | 'visit';
  attempt: number;
  team: string;
  priority: string;
  preferred_dagdeel: string | null;
  /** Postcode area (the four digits of the resident's postcode): the inbox's wijk filter; cleared on deletion. */
  area: ColumnType<string | null, string | null | undefined>;
  /** The case's partner types (kept in step with `cases.partner_types` while the task is open). */
  partner_types: ColumnType<string[], string[] | undefined>;
  status: ColumnType<'open' | 'completed' | 'cancelled', 'open' | 'completed' | 'cancelled' | undefined>;
  due_at: Date;
  assigned_to: string | null;
  outcome: string | null;
  /** Free text may hold personal data: cleared when the resident's data is deleted. */
  note: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  completed_at: Date | null;
  completed_by: string | null;
}
export type Task = Selectable<TasksTable>;
export type NewTask = Insertable<TasksTable>;
