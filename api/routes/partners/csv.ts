/**
 * Streams a CSV delivery into rows: UTF-8 (a BOM is dropped), a header row with the documented column
 * names, separated by `;` or `,` (decided from the header line, so a `,` inside a `;` file stays data).
 * Memory stays bounded: the parser holds one record at a time, and bytes are counted as they arrive.
 */
import { type Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import type { RawRow } from './intake.js';
import { headerProblems, type Problem, signalFromCsv } from './signal-schema.js';

/** Thrown for a delivery that cannot be read as a whole (413 too large, 422 unusable header). */
export class DeliveryError extends Error {
  constructor(
    readonly statusCode: 400 | 413 | 422,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** Passes bytes through and fails with 413 once more than `maxBytes` went by. */
export function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(new DeliveryError(413, `de levering is groter dan ${maxBytes} bytes`));
      } else {
        callback(null, chunk);
      }
    },
  });
}

/**
 * Reads until the end of the first line, puts the bytes back (`unshift`) and chooses the separator that
 * splits that line most.
 */
async function sniffDelimiter(input: Readable): Promise<';' | ','> {
  const head: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onEnd = () => done();
    const onReadable = () => {
      for (let chunk = input.read() as Buffer | null; chunk !== null; chunk = input.read() as Buffer | null) {
        head.push(chunk);
        length += chunk.length;
        if (chunk.includes(0x0a) || length > 64 * 1024) return done();
      }
    };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', done);
  });
  const buffer = Buffer.concat(head);
  if (buffer.length > 0) input.unshift(buffer);
  const firstLine = buffer.toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  return firstLine.split(';').length >= firstLine.split(',').length ? ';' : ',';
}

/**
 * The rows of a CSV body as `RawRow`s, after checking the header (a bad header throws a
 * `DeliveryError` 422 before any row is read). `row` is the line number in the file, the header being 1.
 */
export async function csvRows(body: Readable, maxBytes: number): Promise<AsyncGenerator<RawRow>> {
  const limited = body.pipe(byteLimit(maxBytes));
  body.on('error', (err) => limited.destroy(err));
  const delimiter = await sniffDelimiter(limited);
  const skipped: RawRow[] = [];
  const parser = parse({
    bom: true,
    delimiter,
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    // A row with the wrong number of cells (or broken quoting) is one rejected row, not a failed file.
    on_skip: (err) => {
      const line = err && 'lines' in err ? Number(err.lines) : 0;
      skipped.push({
        row: line,
        problems: [
          {
            field: '(rij)',
            reason: 'rij kan niet gelezen worden: aantal kolommen of aanhalingstekens klopt niet',
          },
        ],
      });
    },
  });
  limited.on('error', (err) => parser.destroy(err));
  limited.pipe(parser);

  const iterator = parser[Symbol.asyncIterator]() as AsyncIterator<{
    record: string[];
    info: { lines: number };
  }>;
  const first = await iterator.next();
  if (first.done)
    throw new DeliveryError(422, 'de levering bevat geen kopregel', [
      { row: 1, field: '(kopregel)', reason: 'ontbreekt' },
    ]);
  const headers = first.value.record.map((h) => h.trim());
  const problems = headerProblems(headers);
  if (problems.length > 0) {
    parser.destroy();
    throw new DeliveryError(422, 'de kopregel van de levering is ongeldig', problems);
  }

  return (async function* rows(): AsyncGenerator<RawRow> {
    for (;;) {
      const next = await iterator.next();
      while (skipped.length > 0) yield skipped.shift()!;
      if (next.done) return;
      const { record, info } = next.value;
      const cells: Record<string, string> = {};
      let encoding: Problem[] | null = null;
      for (let i = 0; i < headers.length; i += 1) {
        const h = headers[i]!;
        const value = record[i] ?? '';
        if (value.includes('\uFFFD')) {
          encoding ??= [];
          encoding.push({ field: h, reason: 'is geen geldige UTF-8' });
        }
        cells[h] = value;
      }
      if (encoding) yield { row: info.lines, problems: encoding };
      else yield { row: info.lines, input: signalFromCsv(cells) };
    }
  })();
}
