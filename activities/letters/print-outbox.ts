/**
 * The print outbox: letters for postal delivery wait here for the print-and-mail service, one folder per
 * day (`<dir>/<YYYY-MM-DD>/<message id>.pdf`) with a manifest (`manifest.csv`) listing them.
 * PostgreSQL (`outbound_messages`) is the record; the folder is a copy the channel can always re-create,
 * so a crash between the two loses nothing. The manifest holds no personal data (file, reference,
 * template, pages): the address is printed in the PDF's envelope window only.
 * A day's batch is collected once the day is over; collecting marks its letters sent and clears the folder.
 * Another store (an object store, SFTP) implements `PrintOutbox` the same way.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';

export interface PrintOutbox {
  /** Stores one letter; idempotent (the same id overwrites with the same bytes). */
  put(day: string, id: string, pdf: Uint8Array): Promise<void>;
  /** Writes the day's manifest (replacing an earlier one). */
  writeManifest(day: string, csv: string): Promise<void>;
  /** Removes letters, e.g. when the resident's data is deleted before the batch was collected. */
  remove(entries: Array<{ day: string; id: string }>): Promise<void>;
  /** Removes a collected day's folder. */
  clearDay(day: string): Promise<void>;
  /** Days that currently have a folder (for clean-up and the demo). */
  days(): Promise<string[]>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function checkDay(day: string): string {
  if (!DAY.test(day)) throw new Error(`not a day (YYYY-MM-DD): ${day}`);
  return day;
}

/** The outbox as a folder on disk (or a mounted share the print service reads). */
export function folderOutbox(dir: string): PrintOutbox {
  const write = async (file: string, data: Uint8Array | string) => {
    // Write-then-rename, so the print service never picks up half a file.
    // A name of its own per write: two attempts of one send may write the same file at once.
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file);
  };
  return {
    async put(day, id, pdf) {
      const folder = join(dir, checkDay(day));
      await mkdir(folder, { recursive: true });
      await write(join(folder, `${id}.pdf`), pdf);
    },
    async writeManifest(day, csv) {
      const folder = join(dir, checkDay(day));
      await mkdir(folder, { recursive: true });
      await write(join(folder, 'manifest.csv'), csv);
    },
    async remove(entries) {
      await Promise.all(entries.map((e) => rm(join(dir, checkDay(e.day), `${e.id}.pdf`), { force: true })));
    },
    async clearDay(day) {
      await rm(join(dir, checkDay(day)), { recursive: true, force: true });
    },
    async days() {
      try {
        return (await readdir(dir)).filter((name) => DAY.test(name)).sort();
      } catch {
        return [];
      }
    },
  };
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The date of `at` in the municipality's time zone (YYYY-MM-DD). */
export function dayOf(at: Date, timeZone = 'Europe/Amsterdam'): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(at);
}

const MANIFEST_HEADER = [
  'bestand',
  'kenmerk',
  'soort',
  'sjabloon',
  'paginas',
  'formaat',
  'enveloppe',
  'aangemaakt',
];

/** Rewrites the manifest of `day` from the database: every letter still waiting for the printer. */
export async function writePrintManifest(db: Db, outbox: PrintOutbox, day: string): Promise<number> {
  const rows = await db
    .selectFrom('outbound_messages')
    .select(['id', 'channel', 'template', 'pages', 'created_at'])
    .where('print_day', '=', day)
    .where('status', '=', 'queued')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const lines = [MANIFEST_HEADER.join(';')];
  for (const row of rows) {
    lines.push(
      [
        `${row.id}.pdf`,
        row.id,
        row.channel === 'card' ? 'kaart' : 'brief',
        row.template,
        String(row.pages ?? 1),
        row.channel === 'card' ? 'A5' : 'A4',
        row.channel === 'card' ? 'C5' : 'venster-EA5/6',
        row.created_at.toISOString(),
      ].join(';'),
    );
  }
  await outbox.writeManifest(day, `${lines.join('\r\n')}\r\n`);
  return rows.length;
}

/**
 * The print service collected `day`'s batch: its letters are marked sent and the folder is cleared.
 * Only a finished day can be collected, so no letter is added to a batch after it was taken.
 */
export async function collectPrintDay(
  db: Db,
  outbox: PrintOutbox,
  day: string,
  now = new Date(),
  timeZone = 'Europe/Amsterdam',
): Promise<number> {
  if (checkDay(day) >= dayOf(now, timeZone)) throw new Error(`the batch of ${day} is not closed yet`);
  await writePrintManifest(db, outbox, day);
  const updated = await db
    .updateTable('outbound_messages')
    .set({ status: 'sent', sent_at: now })
    .where('print_day', '=', day)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  await outbox.clearDay(day);
  return Number(updated.numUpdatedRows);
}

/**
 * Keeps every open day's manifest current (today's grows during the day); runs beside the worker.
 * Several runners may overlap: each rewrites the same manifest from the same rows.
 */
export function startManifestWriter(options: {
  db: Db;
  outbox: PrintOutbox;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    const days = await options.db
      .selectFrom('outbound_messages')
      .select(sql<string>`print_day::text`.as('day'))
      .distinct()
      .where('status', '=', 'queued')
      .where('print_day', 'is not', null)
      .execute();
    for (const { day } of days) await writePrintManifest(options.db, options.outbox, day);
  };
  const tick = () => {
    running = pass()
      .catch((err) => options.onError?.(err))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs ?? 60_000);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
