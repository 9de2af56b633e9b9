/**
 * `consent_forms`: the reference of a signed consent form as the caseworker typed it (free text, so it may
 * hold anything), kept in PostgreSQL. The Temporal Update carries only this row's id, and the hand-over
 * copies the reference into the dossier; the row goes with the case's personal data. Frozen in time:
 * never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consent_forms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id').onDelete('cascade'))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('consent_forms_case_id').on('consent_forms').column('case_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent_forms').execute();
}
