/**
 * A real, local SMTP server (smtp-server) for `npm start` and the tests: it accepts the e-mails the
 * letter channel sends and keeps them in memory, so the demo page (`/demo/mail`) can show what a resident
 * would receive. Nothing is written to disk: a restart forgets the demo mail, and no copy of a resident's
 * e-mail lingers. Recipients at a `.invalid` domain are refused with 550, to show the fallback to a letter.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  id: string;
  receivedAt: Date;
  /** SMTP envelope. */
  envelopeFrom: string;
  envelopeTo: string[];
  messageId: string | null;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | null;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
  raw: Buffer;
}

/** The messages a demo SMTP server received, newest first, at most `limit`. */
export class DemoMailbox {
  private messages: ReceivedMail[] = [];
  /** True while a demo SMTP server delivers into this mailbox; the demo page answers only then. */
  active = false;
  constructor(private readonly limit = 500) {}
  add(mail: ReceivedMail): void {
    this.messages.unshift(mail);
    this.messages.length = Math.min(this.messages.length, this.limit);
  }
  list(): readonly ReceivedMail[] {
    return this.messages;
  }
  get(id: string): ReceivedMail | undefined {
    return this.messages.find((m) => m.id === id);
  }
  clear(): void {
    this.messages = [];
  }
}

/** The mailbox of the demo server started by `npm start`, read by the demo page in the same process. */
export const demoMailbox = new DemoMailbox();

export interface DemoSmtpServer {
  /** `smtp://127.0.0.1:<port>`, for `smtpMailer`. */
  url: string;
  port: number;
  mailbox: DemoMailbox;
  stop(): Promise<void>;
}

export interface DemoSmtpOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  mailbox?: DemoMailbox;
  /** Recipients to refuse with 550 (a bounce); default: addresses at a `.invalid` domain. */
  refuses?: (address: string) => boolean;
}

const addressText = (value: unknown): string => {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((a: { text?: string }) => a.text ?? '').join(', ');
};

/** Starts the server; resolves when it listens. */
export async function startDemoSmtpServer(options: DemoSmtpOptions = {}): Promise<DemoSmtpServer> {
  const mailbox = options.mailbox ?? demoMailbox;
  const refuses = options.refuses ?? ((address: string) => /\.invalid$/i.test(address));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 25 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      if (refuses(address.address)) {
        const err = new Error('Mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        callback(err);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            mailbox.add({
              id: randomUUID(),
              receivedAt: new Date(),
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              messageId: parsed.messageId ?? null,
              from: addressText(parsed.from),
              to: addressText(parsed.to),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : null,
              attachments: parsed.attachments.map((a) => ({
                filename: a.filename ?? 'bijlage',
                contentType: a.contentType,
                content: a.content,
              })),
              raw,
            });
            callback();
          })
          .catch((err: unknown) => callback(err instanceof Error ? err : new Error('unreadable message')));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors of single connections (a client hanging up) must not crash the process.
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;
  mailbox.active = true;
  return {
    url: `smtp://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    mailbox,
    stop: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          mailbox.active = false;
          resolve();
        }),
      ),
  };
}
