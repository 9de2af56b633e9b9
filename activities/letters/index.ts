/**
 * Letters, e-mail and cards: the real outreach channel, built from the process configuration.
 * See letter-channel.ts for the sending rules and print-outbox.ts for the print service's side.
 */
import { join } from 'node:path';
import type { Db } from '../../db/database.js';
import type { Config } from '../../lib/config.js';
import { createLetterChannel, type LetterChannel } from './letter-channel.js';
import type { Mailer } from './mailer.js';
import { type Municipality, resolveFont } from './municipality.js';
import { folderOutbox, type PrintOutbox } from './print-outbox.js';
import type { RenderInput } from './render-pdf.js';
import { openTemplates } from './templates.js';

export { createLetterChannel, type LetterChannel } from './letter-channel.js';
export { type Mailer, smtpMailer } from './mailer.js';
export { collectPrintDay, folderOutbox, type PrintOutbox, startManifestWriter } from './print-outbox.js';

/** The sender's details from configuration. */
export function municipalityFromConfig(config: Config): Municipality {
  return {
    name: config.MUNICIPALITY_NAME,
    team: config.MUNICIPALITY_TEAM,
    phone: config.MUNICIPALITY_PHONE,
    email: config.MUNICIPALITY_EMAIL,
    openingHours: config.MUNICIPALITY_OPENING_HOURS,
    website: config.MUNICIPALITY_WEBSITE,
    postalAddress: config.MUNICIPALITY_POSTAL_ADDRESS,
    logoPath: config.MUNICIPALITY_LOGO ?? null,
    font: resolveFont(config.LETTER_FONT, config.LETTER_FONT_BOLD),
  };
}

/** `"Gemeente Hollands Kroon" <schulddienstverlening@hollandskroon.nl>` unless MAIL_FROM says otherwise. */
export function mailFromConfig(config: Config): string {
  return config.MAIL_FROM ?? `"${config.MUNICIPALITY_NAME.replace(/"/g, '')}" <${config.MUNICIPALITY_EMAIL}>`;
}

export function outboxFromConfig(config: Config): PrintOutbox {
  return folderOutbox(config.PRINT_OUTBOX_DIR ?? join(config.DATA_DIR, 'outbox'));
}

/** The channel as configured; templates are validated now, so a broken template stops the start. */
export function letterChannelFromConfig(
  config: Config,
  db: Db,
  mailer: Mailer | null,
  render?: (input: RenderInput) => Promise<Buffer>,
): LetterChannel {
  return createLetterChannel({
    ...(render ? { render } : {}),
    db,
    templates: openTemplates(config.LETTER_TEMPLATES_DIR),
    municipality: municipalityFromConfig(config),
    outbox: outboxFromConfig(config),
    mailer,
    emailReplacesLetter: config.EMAIL_REPLACES_LETTER,
  });
}
