import type { ColumnType, Generated, Selectable } from 'kysely';

/** A letter, e-mail or card sent to a resident; `content` (the rendered document) goes with deletion. */
export interface OutboundMessagesTable {
  id: Generated<string>;
  idempotency_key: string;
  case_id: string;
  channel: 'letter' | 'email' | 'card';
  template: string;
  status: string;
  content: Buffer | null;
  created_at: ColumnType<Date, Date | undefined, never>;
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
