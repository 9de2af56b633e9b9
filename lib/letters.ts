/**
 * Wiring of the letter channel for a worker process: the SMTP mailer (SMTP_URL, or with `npm start` the
 * local demo SMTP server), the print outbox folder and its manifest writer, and the templates.
 */
import { letterChannelFromConfig, mailFromConfig, outboxFromConfig } from '../activities/letters/index.js';
import type { LetterChannel } from '../activities/letters/letter-channel.js';
import { type Mailer, smtpMailer } from '../activities/letters/mailer.js';
import { startManifestWriter } from '../activities/letters/print-outbox.js';
import { createRenderPool } from '../activities/letters/render-pool.js';
import type { Db } from '../db/database.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { startDemoSmtpServer } from './smtp-server.js';

export interface LetterServices {
  channel: LetterChannel;
  /** The demo SMTP server's URL when one was started here. */
  demoSmtpUrl: string | null;
  stop(): Promise<void>;
}

/** Starts what the channel needs; `embedded` (npm start) runs the demo SMTP server when SMTP_URL is unset. */
export async function startLetterServices(
  config: Config,
  db: Db,
  logger: Logger,
  embedded: boolean,
): Promise<LetterServices> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse())
      await fn().catch((err) => logger.error({ err }, 'stopping letters failed'));
  };
  try {
    let mailer: Mailer | null = null;
    let demoSmtpUrl: string | null = null;
    if (config.SMTP_URL) {
      mailer = smtpMailer(config.SMTP_URL, mailFromConfig(config));
    } else if (embedded) {
      const smtp = await startDemoSmtpServer({ host: '127.0.0.1', port: config.DEMO_SMTP_PORT });
      stops.push(() => smtp.stop());
      demoSmtpUrl = smtp.url;
      mailer = smtpMailer(smtp.url, mailFromConfig(config));
      logger.info({ smtp: smtp.url }, 'demo SMTP server started; received e-mail is shown at /demo/mail');
    } else {
      logger.warn('SMTP_URL is not set: residents get letters only, no e-mail');
    }
    if (mailer) {
      const m = mailer;
      stops.push(async () => m.close());
    }
    // PDFs are drawn in a thread of their own, so a month of letters leaves this event loop free.
    const renderPool = createRenderPool();
    stops.push(() => renderPool.close());
    const channel = letterChannelFromConfig(config, db, mailer, renderPool.render);
    const writer = startManifestWriter({
      db,
      outbox: outboxFromConfig(config),
      onError: (err) => logger.error({ err }, 'writing the print manifest failed'),
    });
    stops.push(() => writer.stop());
    return { channel, demoSmtpUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
