/**
 * Contact details per partner. `resident_reports` keeps what each partner last reported of a resident
 * (phone, e-mail, address, with its signal date), so one partner's report never silently replaces
 * another's without a trace; `residents.details_partner_id` names the partner whose report the resident's
 * current details come from (the newest signal date across partners wins, as before). Reports go with the
 * resident row (cascade). Frozen in time: never import application code here.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('residents')
    .addColumn('details_partner_id', 'uuid', (c) => c.references('partners.id').onDelete('set null'))
    .execute();
  await db.schema
    .createTable('resident_reports')
    .addColumn('resident_id', 'uuid', (c) => c.notNull().references('residents.id').onDelete('cascade'))
    .addColumn('partner_id', 'uuid', (c) => c.notNull().references('partners.id').onDelete('cascade'))
    .addColumn('signal_date', 'date', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('email', 'text')
    .addColumn('postcode', 'text', (c) => c.notNull())
    .addColumn('house_number', 'integer', (c) => c.notNull())
    .addColumn('house_number_addition', 'text')
    .addColumn('street', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resident_reports_pk', ['resident_id', 'partner_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resident_reports').execute();
  await db.schema.alterTable('residents').dropColumn('details_partner_id').execute();
}
