/**
 * Letters, e-mails and cards: what the print outbox and the e-mail channel need on `outbound_messages`.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('outbound_messages')
    // The day's print batch a letter belongs to (null: not for the printer, e.g. an e-mail).
    .addColumn('print_day', 'date')
    .addColumn('pages', 'integer')
    // 'application/pdf' for letters and cards, 'message/rfc822' for the stored copy of an e-mail.
    .addColumn('content_type', 'text')
    // Why a send failed or was skipped, as a code ('smtp-550', 'no-resident'); never personal data.
    .addColumn('detail', 'text')
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('outbound_messages_print_queue')
    .on('outbound_messages')
    .columns(['print_day', 'status'])
    .where(sql.ref('print_day'), 'is not', null)
    .execute();
  await db.schema.createIndex('outbound_messages_case').on('outbound_messages').column('case_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbound_messages_case').ifExists().execute();
  await db.schema.dropIndex('outbound_messages_print_queue').ifExists().execute();
  await db.schema
    .alterTable('outbound_messages')
    .dropColumn('print_day')
    .dropColumn('pages')
    .dropColumn('content_type')
    .dropColumn('detail')
    .dropColumn('sent_at')
    .execute();
}
