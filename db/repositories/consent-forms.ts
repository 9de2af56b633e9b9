/**
 * Consent forms' references as caseworkers type them: free text, so they stay in PostgreSQL and the case
 * workflow gets the row's id only (see workflows/case-machine.ts `ConsentForm`).
 */
import type { Db } from '../database.js';

/**
 * Stores a reference under `id` (the Update's id). The same submission sent again (the form shown again
 * after Temporal refused or was unreachable, the typo corrected) replaces it: the last one typed counts.
 */
export async function storeConsentForm(
  db: Db,
  form: { id: string; caseId: string; reference: string; recordedBy: string },
): Promise<void> {
  await db
    .insertInto('consent_forms')
    .values({ id: form.id, case_id: form.caseId, reference: form.reference, recorded_by: form.recordedBy })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ reference: form.reference, recorded_by: form.recordedBy }),
    )
    .execute();
}
