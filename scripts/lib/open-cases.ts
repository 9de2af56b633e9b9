/**
 * Open cases for the month benchmark's `--open n`: CSV batches of one partner in which every row is another
 * resident (none of them in the month), each signal passing the selection, so each starts a case that sends
 * its first letter and then waits on a timer.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { CSV_HEADER, type MonthFile, residentCells } from './month.js';

export interface OpenCasesOptions {
  rows: number;
  dir: string;
  /** The partner type of every row (its partner posts the batches). */
  type: string;
  /** Rows per batch (file). */
  batchRows?: number;
  /** Resident number of the first row; far above a month's (0 to 0.8 x its rows). */
  firstResident?: number;
  /** `signalDate` of every row (YYYY-MM-DD, not in the future). */
  signalDate?: string;
}

/** Writes the batches; returns what each holds (no bad or re-sent rows). */
export async function generateOpenCases(options: OpenCasesOptions): Promise<MonthFile[]> {
  const { rows, dir, type } = options;
  const batchRows = options.batchRows ?? 20_000;
  const firstResident = options.firstResident ?? 5_000_000;
  const signalDate = options.signalDate ?? '2026-11-01';
  const files: MonthFile[] = [];
  for (let from = 0; from < rows; from += batchRows) {
    const count = Math.min(batchRows, rows - from);
    const path = join(dir, `open-${files.length + 1}.csv`);
    const out = createWriteStream(path);
    out.write(`${CSV_HEADER}\n`);
    for (let i = from; i < from + count; i += 1) {
      // Above the selection's EUR 75 and 30 days, no crisis: the case starts with the letter.
      const cells = [`open-${i}`, signalDate, '2026-03-15', '250.00', 'nee'];
      const line = `${[...cells, ...residentCells(firstResident + i, true)].join(';')}\n`;
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    files.push({ type, path, rows: count, bad: 0, resent: 0 });
  }
  return files;
}
