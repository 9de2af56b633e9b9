/**
 * E-mail over SMTP (nodemailer). A message is composed once to raw MIME and that exact copy is both stored
 * (so it can be shown and later deleted) and sent. Failures are reduced to a code (`smtp-550`), because
 * SMTP error texts often repeat the recipient's address.
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';

export interface Mailer {
  /** The sender, e.g. `"Gemeente Hollands Kroon" <schulddienstverlening@hollandskroon.nl>`. */
  from: string;
  /** Sends the raw message; rejects when the server refuses it or cannot be reached. */
  send(message: { raw: Buffer; from: string; to: string }): Promise<void>;
  close(): void;
}

/**
 * A mailer over an SMTP URL such as `smtp://user:password@mail.example:587`. Connections are pooled (at most 10, as relays allow per client): a
 * month's first letters send thousands of e-mails, and a connection (with its TLS handshake and login) per
 * message would cost the relay and this process more than the messages themselves.
 */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport({ url, pool: true, maxConnections: 10, maxMessages: 100 });
  return {
    from,
    async send(message) {
      await transport.sendMail({
        envelope: { from: fromAddress(message.from), to: message.to },
        raw: message.raw,
      });
    },
    close() {
      transport.close();
    },
  };
}

/** The bare address inside a display-name form. */
export function fromAddress(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}

export interface EmailContent {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  attachment: { filename: string; content: Buffer };
  /** The idempotency key: the Message-ID is derived from it, so a resend would be recognisably the same. */
  key: string;
  date: Date;
}

/** Composes the message (HTML + plain text + the PDF) to raw MIME. */
export async function composeEmail(content: EmailContent): Promise<Buffer> {
  const domain = fromAddress(content.from).split('@')[1] ?? 'localhost';
  const id = createHash('sha256').update(content.key).digest('hex').slice(0, 32);
  const node = new MailComposer({
    from: content.from,
    to: content.to,
    subject: content.subject,
    // CRLF already, as SMTP sends it: the stored copy is then byte for byte what the resident received.
    text: content.text.replace(/\r?\n/g, '\r\n'),
    html: content.html.replace(/\r?\n/g, '\r\n'),
    date: content.date,
    messageId: `<${id}@${domain}>`,
    attachments: [
      {
        filename: content.attachment.filename,
        content: content.attachment.content,
        contentType: 'application/pdf',
      },
    ],
  }).compile();
  return node.build();
}

/** A code for why a send failed: the SMTP reply code, or the kind of connection error. Never the text. */
export function failureCode(err: unknown): string {
  const e = err as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === 'number') return `smtp-${e.responseCode}`;
  if (typeof e?.code === 'string') return `smtp-${e.code.toLowerCase()}`.slice(0, 40);
  return 'smtp-error';
}

/** A permanent refusal (5xx): the address does not work, so the letter goes by post. */
export function isBounce(err: unknown): boolean {
  const code = (err as { responseCode?: number })?.responseCode;
  return typeof code === 'number' && code >= 500;
}
