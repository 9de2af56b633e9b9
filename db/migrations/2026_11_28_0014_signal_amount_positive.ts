/**
 * Every signal's amount is at least one cent. Intake refuses anything else, but an amount below half a cent
 * (say 0.000000001) once passed validation and was stored as 0.00: the database now refuses it too.
 * NOT VALID: rows stored before are not checked (a database that holds such a row still migrates); every
 * new or changed row is.
 * Frozen in time: never import application code here.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table signals add constraint signals_amount_positive check (amount > 0) not valid`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table signals drop constraint if exists signals_amount_positive`.execute(db);
}
