/**
 * The shapes caseworkers send (JSON or form) for a task outcome or a resident's own contact, validated
 * with zod at the edge, and their Dutch labels.
 */
import { z } from 'zod';
import { NO_OBJECTION_WITH, OUTCOME_KINDS, type OutcomeKind } from '../../../workflows/case-machine.js';
import { DAGDELEN } from '../../../workflows/ddas.js';
import { isRealDate } from '../partners/signal-schema.js';

/** Dutch labels of the outcomes, in the order the forms show them. */
export const OUTCOME_LABELS: Record<OutcomeKind, string> = {
  consent: 'Toestemming: overdracht naar schuldhulpverlening',
  declined: 'Wil geen hulp',
  selfManaged: 'Regelt het zelf',
  alreadyPaid: 'Heeft al betaald of een regeling getroffen',
  knownToDebtHelp: 'Al bekend bij schuldhulpverlening',
  otherProgramme: 'Heeft al een ander traject',
  adviceQuickFix: 'Advies of quick fix gegeven',
  referralFinancial: 'Doorverwezen: financiële hulp',
  referralNonFinancial: 'Doorverwezen: niet-financiële hulp',
  notNow: 'Nu niet, later opnieuw contact',
};

/**
 * The checkbox on the outcome forms (and its hint): ends the running round as objected and puts the resident
 * on the objection register.
 */
export const OBJECTION_LABEL = 'Inwoner maakt bezwaar tegen het delen van gegevens door schuldeisers';
export const OBJECTION_HINT =
  'Alleen als u de inwoner sprak en die geen hulp of later contact wil. Het lopende contact stopt dan (geen brieven, telefoontjes of huisbezoeken meer) en nieuwe signalen over deze inwoner leiden niet meer tot contact.';

/** An objection needs a conversation whose outcome ends the contact. */
function objectionFits(b: { reached?: boolean; outcome?: { kind: OutcomeKind }; objection?: boolean }) {
  if (!b.objection) return true;
  return b.reached !== false && b.outcome !== undefined && !NO_OBJECTION_WITH.includes(b.outcome.kind);
}
const objectionFlag = z
  .boolean()
  .optional()
  .describe(
    'the resident objects to creditors sharing their data: the running outreach stops (the round ends with ' +
      '"Niet opgepakt: andere reden", no further letters, calls or visits) and the resident goes on the ' +
      'objection register, so later signals start no contact (not with "not reached", consent or notNow)',
  );
const OBJECTION_REFUSED = {
  message: 'bezwaar kan alleen als u de inwoner sprak en die geen hulp of later contact wil',
  path: ['objection'],
};

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'verwacht een datum (JJJJ-MM-DD)')
  .refine(isRealDate, 'is geen bestaande datum')
  .refine((v) => v >= '2000-01-01' && v <= '2100-12-31', 'moet tussen 2000 en 2100 liggen');
const simpleKinds = OUTCOME_KINDS.filter((k) => k !== 'consent' && k !== 'notNow');

export const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('consent'),
    consentDate: isoDate,
    consentReference: z.string().trim().min(1, 'vul het kenmerk van het formulier in').max(64),
  }),
  z.object({ kind: z.literal('notNow'), recontactDate: isoDate }),
  ...simpleKinds.map((kind) => z.object({ kind: z.literal(kind) })),
]);

/** Body of `POST /api/v1/tasks/{id}/complete`. */
export const completeTaskBody = z
  .object({
    reached: z.boolean(),
    /** Defaults to the dagdeel of now. */
    dagdeel: z.enum(DAGDELEN).optional(),
    outcome: outcomeSchema.optional(),
    /** Free text; stored with the task, never sent to the workflow. */
    note: z.string().max(2000).optional(),
    /** Makes a repeated submission (double click, retry) complete the task once. */
    submissionId: z.uuid().optional(),
    /** The resident objects to creditors sharing their data: put them on the objection register. */
    objection: objectionFlag,
  })
  .refine((b) => !b.reached || b.outcome !== undefined, {
    message: 'kies een uitkomst van het gesprek',
    path: ['outcome'],
  })
  .refine(objectionFits, OBJECTION_REFUSED);
export type CompleteTaskBody = z.infer<typeof completeTaskBody>;

/** How the resident reached the team, and the DDAS contactsoort it is recorded as. */
export const CONTACT_CHANNELS = {
  phone: { label: 'Telefonisch', soort: 'Telefoon' },
  email: { label: 'Per e-mail', soort: 'Mail' },
  desk: { label: 'Aan de balie', soort: 'Afspraak op locatie' },
} as const;
export type ContactChannel = keyof typeof CONTACT_CHANNELS;

/** Body of `POST /api/v1/cases/{id}/resident-contact`. */
export const residentContactBody = z
  .object({
    channel: z.enum(['phone', 'email', 'desk']),
    dagdeel: z.enum(DAGDELEN).optional(),
    outcome: outcomeSchema,
    submissionId: z.uuid().optional(),
    objection: objectionFlag,
  })
  .refine(objectionFits, OBJECTION_REFUSED);
export type ResidentContactBody = z.infer<typeof residentContactBody>;

/** Turns a flat HTML form into the JSON shape (fields: reached, outcome, consentDate, ...). */
export function outcomeFromForm(form: Record<string, unknown>): unknown {
  const kind = form.outcome;
  if (typeof kind !== 'string' || kind === '') return undefined;
  if (kind === 'consent')
    return { kind, consentDate: form.consentDate, consentReference: form.consentReference };
  if (kind === 'notNow') return { kind, recontactDate: form.recontactDate };
  return { kind };
}

/** The objection checkbox of a form: ticked (`ja`), or absent. */
export function objectionFromForm(form: Record<string, unknown>): boolean | undefined {
  return form.objection === 'ja' ? true : undefined;
}

/** Dutch messages of a zod error, one per field. */
export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || 'invoer'}: ${i.message}`);
}
