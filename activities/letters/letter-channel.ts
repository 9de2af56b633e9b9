/**
 * The real outreach channel: letters as PDF to the print outbox, e-mail over SMTP when the resident's
 * address is known, and the card left after a missed home visit.
 *
 * Personal data is read from `residents` at send time, never from the activity's input. Every send is
 * idempotent on the workflow's key (`<caseId>:<step>`), with PostgreSQL as the record:
 * - a letter is recorded (row + PDF) in one insert; the print copy is written after it and re-written by a
 *   retry, so a crash between "rendered" and "recorded" renders again and records once;
 * - an e-mail is claimed (`sending`) before it goes out and marked `sent` after; a retry that finds a claim
 *   whose outcome is unknown (crash right after the SMTP server took it) does not send again: at most one
 *   e-mail, and the letter still goes by post.
 * By default the letter always goes by post and the e-mail comes with it; with `emailReplacesLetter` a
 * delivered e-mail replaces the paper letter, and a failed, refused (bounced) or uncertain e-mail falls back
 * to it.
 */

import type { Db } from '../../db/database.js';
import { recordOutboundOnce, recordWithheld, residentObjected } from '../../db/repositories/outbound.js';
import { dagdeelOf } from '../../workflows/ddas.js';
import type { OutboundInput, OutreachChannel } from '../case-activities.js';
import type { Addressee } from './addressing.js';
import { composeDocument, referenceOf, toHtml, toPlainText } from './compose.js';
import { composeEmail, failureCode, isBounce, type Mailer } from './mailer.js';
import type { Municipality } from './municipality.js';
import { dayOf, type PrintOutbox } from './print-outbox.js';
import type { RenderInput } from './render-pdf.js';
import { TEMPLATE_NAMES, type TemplateName, type TemplateStore } from './templates.js';

export interface LetterChannelOptions {
  db: Db;
  templates: TemplateStore;
  municipality: Municipality;
  outbox: PrintOutbox;
  /** Absent: no e-mail, letters only. */
  mailer?: Mailer | null;
  /** A delivered e-mail replaces the paper letter (default: the letter goes anyway). */
  emailReplacesLetter?: boolean;
  now?: () => Date;
  timeZone?: string;
  /** Draws the PDF; default in this thread (`renderPdf`), in a worker process a render pool (render-pool.ts). */
  render?: (input: RenderInput) => Promise<Buffer>;
  /** Test points: a test kills the process here to prove a retry sends nothing twice. */
  hooks?: {
    rendered?(input: OutboundInput): Promise<void> | void;
    emailAccepted?(input: OutboundInput): Promise<void> | void;
  };
}

export interface LetterChannel extends OutreachChannel {
  /**
   * Deletes the stored documents of a case's resident: PDFs and e-mail copies in PostgreSQL and the print
   * outbox; letters not yet collected by the printer are withdrawn. Idempotent.
   */
  forget(input: { caseKey: string }): Promise<void>;
}

/** What the resident row gives a letter. */
async function findAddressee(db: Db, caseKey: string): Promise<Addressee | null> {
  const row = await db
    .selectFrom('residents')
    .select([
      'first_names',
      'surname_prefix',
      'surname',
      'street',
      'house_number',
      'house_number_addition',
      'postcode',
      'city',
      'email',
    ])
    .where('case_key', '=', caseKey)
    .executeTakeFirst();
  if (!row) return null;
  return {
    firstNames: row.first_names,
    surnamePrefix: row.surname_prefix,
    surname: row.surname,
    street: row.street,
    houseNumber: row.house_number,
    houseNumberAddition: row.house_number_addition,
    postcode: row.postcode,
    city: row.city,
    email: row.email?.trim() || null,
  };
}

function templateOf(input: OutboundInput): TemplateName {
  const name = input.channel === 'card' ? 'card' : input.template;
  if (!(TEMPLATE_NAMES as readonly string[]).includes(name))
    throw new Error(`unknown letter template: ${name}`);
  return name as TemplateName;
}

type EmailOutcome = 'sent' | 'failed' | 'unknown' | 'none';

/** Creates the channel; pass it to `createCaseWorker({ channel })`. */
export function createLetterChannel(options: LetterChannelOptions): LetterChannel {
  const { db, templates, municipality, outbox, mailer = null, hooks = {} } = options;
  const now = options.now ?? (() => new Date());
  const timeZone = options.timeZone ?? 'Europe/Amsterdam';

  /** Sends the e-mail once per key; returns what is known about it. */
  const email = async (
    input: OutboundInput,
    to: string,
    content: { subject: string; text: string; html: string; pdf: Buffer; reference: string },
    at: Date,
  ): Promise<EmailOutcome> => {
    if (!mailer) return 'none';
    const key = `${input.key}:email`;
    const known = async (): Promise<EmailOutcome | null> => {
      const row = await db
        .selectFrom('outbound_messages')
        .select('status')
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      if (!row) return null;
      return row.status === 'sent' ? 'sent' : row.status === 'failed' ? 'failed' : 'unknown';
    };
    let outcome = await known();
    if (outcome === null) {
      const raw = await composeEmail({
        from: mailer.from,
        to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        attachment: { filename: `brief-${content.reference}.pdf`, content: content.pdf },
        key,
        date: at,
      });
      const claimed = await recordOutboundOnce(db, {
        idempotency_key: key,
        case_id: input.caseId,
        channel: 'email',
        template: input.template,
        status: 'sending',
        content: raw,
        content_type: 'message/rfc822',
      });
      if (!claimed) {
        outcome = (await known()) ?? 'unknown';
      } else {
        try {
          await mailer.send({ raw, from: mailer.from, to });
        } catch (err) {
          await db
            .updateTable('outbound_messages')
            .set({
              status: 'failed',
              detail: isBounce(err) ? `bounce-${failureCode(err)}` : failureCode(err),
            })
            .where('id', '=', claimed)
            .execute();
          return 'failed';
        }
        await hooks.emailAccepted?.(input);
        await db
          .updateTable('outbound_messages')
          .set({ status: 'sent', sent_at: at })
          .where('id', '=', claimed)
          .execute();
        outcome = 'sent';
      }
    }
    if (outcome === 'sent') {
      // The DDAS contactpoging for the e-mail (the workflow records the Brief itself).
      await db
        .insertInto('contact_attempts')
        .values({
          idempotency_key: `${input.key}:mail`,
          case_id: input.caseId,
          soort: 'Mail',
          bereikt: false,
          attempted_at: at,
          dagdeel: dagdeelOf(at.getTime(), timeZone),
        })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .execute();
    }
    return outcome;
  };

  return {
    async deliver(input) {
      const existing = await db
        .selectFrom('outbound_messages')
        .select(['id', 'status', 'print_day', 'content'])
        .where('idempotency_key', '=', input.key)
        .executeTakeFirst();
      if (existing) {
        // Recorded before: make sure the print copy exists too (a crash may have come between the two).
        if (existing.status === 'queued' && existing.print_day && existing.content) {
          await outbox.put(existing.print_day, existing.id, existing.content);
        }
        return 'already-sent';
      }

      const template = templateOf(input);
      const at = now();
      const addressee = await findAddressee(db, input.caseKey);
      if (!addressee) {
        // Deleted or never known: nothing to send, and the record says why (no personal data involved).
        const inserted = await recordOutboundOnce(db, {
          idempotency_key: input.key,
          case_id: input.caseId,
          channel: input.channel,
          template,
          status: 'no-resident',
          detail: 'no-resident',
        });
        return inserted ? 'queued' : 'already-sent';
      }

      // The agreed re-contact moment, when the workflow passes it along (an id-free timestamp); without it
      // the confirmation speaks of "de afgesproken datum".
      const recontactAt = template === 'recontactConfirmation' ? (input.recontactAt ?? null) : null;
      const reference = referenceOf(input.caseId);
      const document = await composeDocument(
        templates,
        {
          template,
          addressee,
          municipality,
          reference,
          at,
          recontactAt,
          timeZone,
        },
        options.render,
      );
      await hooks.rendered?.(input);
      // Rendering takes a while: an objection registered meanwhile still stops the letter and its e-mail.
      if (await residentObjected(db, input.caseKey)) {
        return recordWithheld(db, { key: input.key, caseId: input.caseId, channel: input.channel, template });
      }

      const emailOutcome =
        input.channel === 'letter' && addressee.email
          ? await email(
              input,
              addressee.email,
              {
                subject: document.template.subject,
                text: toPlainText(document.template.blocks),
                html: toHtml(document.template, municipality),
                pdf: document.pdf,
                reference,
              },
              at,
            )
          : 'none';

      const card = input.channel === 'card';
      const replaced = !card && options.emailReplacesLetter === true && emailOutcome === 'sent';
      const printDay = card || replaced ? null : dayOf(at, timeZone);
      const inserted = await recordOutboundOnce(db, {
        idempotency_key: input.key,
        case_id: input.caseId,
        channel: input.channel,
        template,
        // A card is left at the door by the visitor; this row is the record of what was left.
        status: card ? 'left' : replaced ? 'replaced-by-email' : 'queued',
        content: replaced ? null : document.pdf,
        content_type: replaced ? null : 'application/pdf',
        pages: replaced ? null : document.pages,
        print_day: printDay,
        sent_at: card ? at : null,
      });
      if (!inserted) return 'already-sent';
      if (printDay) await outbox.put(printDay, inserted, document.pdf);
      return 'queued';
    },

    async forget({ caseKey }) {
      const caseIds = db.selectFrom('cases').select('id').where('case_key', '=', caseKey);
      const waiting = await db
        .selectFrom('outbound_messages')
        .select(['id', 'print_day'])
        .where('case_id', 'in', caseIds)
        .where('print_day', 'is not', null)
        .execute();
      await db
        .updateTable('outbound_messages')
        .set({ status: 'withdrawn' })
        .where('case_id', 'in', caseIds)
        .where('status', '=', 'queued')
        .execute();
      await db
        .updateTable('outbound_messages')
        .set({ content: null })
        .where('case_id', 'in', caseIds)
        .where('content', 'is not', null)
        .execute();
      await outbox.remove(waiting.map((row) => ({ day: row.print_day!, id: row.id })));
    },
  };
}
