import type { ColumnType, Generated, Selectable } from 'kysely';

/**
 * A letter, e-mail or card sent to a resident; `content` (the rendered PDF, or the e-mail as sent) goes with
 * deletion. Status: letters and cards `queued` (print outbox) -> `sent` (collected), or `replaced-by-email`,
 * `withdrawn` (data deleted before printing), `no-resident`, `objected` (withheld: the resident is on the
 * objection register); e-mails `sending` -> `sent` | `failed`.
 */
export interface OutboundMessagesTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  channel: 'letter' | 'email' | 'card';
  template: string;
  status: string;
  content: Buffer | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** YYYY-MM-DD: the print batch (null when not for the printer). */
  print_day: ColumnType<string | null, string | null | undefined, string | null>;
  pages: ColumnType<number | null, number | null | undefined, number | null>;
  content_type: ColumnType<string | null, string | null | undefined, string | null>;
  /** A failure or skip code, never personal data. */
  detail: ColumnType<string | null, string | null | undefined, string | null>;
  sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}
export type OutboundMessage = Selectable<OutboundMessagesTable>;

/** Feedback to a partner about its signal: picked up, declined, no contact, not picked up. */
export interface PartnerNotificationsTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  signal_id: string;
  partner_id: string;
  message: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  delivered_at: Date | null;
}
export type PartnerNotification = Selectable<PartnerNotificationsTable>;

/** Handover to debt help after consent (the toestemmingsformulier). */
export interface DossiersTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  resident_id: string | null;
  consent_date: ColumnType<string, string, string>;
  consent_reference: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}
export type Dossier = Selectable<DossiersTable>;

/** A consent form's reference as typed, outside Temporal (the Update carries `id` only). */
export interface ConsentFormsTable {
  /** The Update's id (`task:<task>:<submission>`): a repeated submission stores one row. */
  id: string;
  case_id: string;
  reference: string;
  recorded_by: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}
