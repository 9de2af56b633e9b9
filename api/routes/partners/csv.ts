/**
 * Streams a CSV delivery into rows: UTF-8 (a BOM is dropped), a header row with the documented column
 * names, separated by `;` or `,` (decided from the header line, so a `,` inside a `;` file stays data),
 * records ending in LF or CRLF, fields quoted with `"` where needed (`""` inside a quoted field is one `"`,
 * and a quoted field may span lines). Memory stays bounded: bytes are decoded and split as they arrive,
 * holding one network chunk and an unfinished record at a time, and counted against the size limit.
 *
 * A reader of its own rather than a general CSV library: a monthly batch has 100,000 rows, and most lines
 * hold no quote at all, so a plain split of those lines costs a tenth of a general parser's per-field
 * state machine. Quoted lines take the careful path.
 */
import { type Readable, Transform } from 'node:stream';
import type { RawRow } from './intake.js';
import { CSV_HEADERS, headerProblems, type Problem, signalFromCells } from './signal-schema.js';

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

const UNREADABLE_ROW: Problem = {
  field: '(rij)',
  reason: 'rij kan niet gelezen worden: aantal kolommen of aanhalingstekens klopt niet',
};

/**
 * The longest record read, in characters: a signal's row is under 2,000. A longer one (a file without line
 * breaks, a quote never closed) is one unreadable row, and the reader skips to the next line without
 * holding more of it, so reading stays linear in the body and bounded in memory.
 */
export const MAX_RECORD_CHARS = 64 * 1024;

const TOO_LONG_ROW: Problem = {
  field: '(rij)',
  reason: `rij is langer dan ${MAX_RECORD_CHARS} tekens: ontbreekt een regeleinde of een sluitend aanhalingsteken?`,
};

/** One record read from the text: its cells and the line it ends on, or a row that cannot be read. */
type CsvRecord = { cells: string[]; line: number } | { cells: null; line: number; tooLong?: true };

/**
 * Splits CSV text into records, incrementally: `push` takes the next piece of decoded text and returns
 * the records completed by it; `end` returns the last one. Line numbers count every line of the file
 * (the header is line 1); empty lines are skipped.
 */
export class CsvSplitter {
  private pending = '';
  /** Line number of the first line in `pending`. */
  private line = 1;
  private delimiter: string;
  /** Skipping the rest of a record over MAX_RECORD_CHARS, up to the next line break. */
  private skipping = false;

  constructor(
    delimiter: ';' | ',',
    private readonly maxRecord = MAX_RECORD_CHARS,
  ) {
    this.delimiter = delimiter;
  }

  push(text: string): CsvRecord[] {
    let rest = text;
    if (this.skipping) {
      const nl = rest.indexOf('\n');
      if (nl === -1) return [];
      this.skipping = false;
      this.line += 1;
      rest = rest.slice(nl + 1);
    }
    this.pending = this.pending.length === 0 ? rest : this.pending + rest;
    const out = this.drain(false);
    if (this.pending.length > this.maxRecord) {
      // An unfinished record this long: unreadable. Its line breaks so far (inside quotes) still count.
      out.push({ cells: null, line: this.line, tooLong: true });
      for (let i = this.pending.indexOf('\n'); i !== -1; i = this.pending.indexOf('\n', i + 1))
        this.line += 1;
      this.pending = '';
      this.skipping = true;
    }
    return out;
  }

  end(): CsvRecord[] {
    if (this.skipping) return [];
    return this.drain(true);
  }

  private drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    const text = this.pending;
    const delimiter = this.delimiter;
    let pos = 0;
    // The next quote in the text (-1: none), searched again only once passed, so no line is scanned twice.
    let quote = text.indexOf('"');
    while (pos < text.length) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) break;
        nl = text.length;
      }
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
      if (end - pos > this.maxRecord) {
        // Read whole but too long, quoted or not: the same refusal as for one that never ends.
        out.push({ cells: null, line: this.line, tooLong: true });
        this.line += 1;
        pos = nl + 1;
        continue;
      }
      if (quote === -1 || quote >= end) {
        // The common case: a line without quotes is a record of plain cells.
        if (end > pos) out.push({ cells: text.slice(pos, end).split(delimiter), line: this.line });
        this.line += 1;
        pos = nl + 1;
        continue;
      }
      const quoted = this.quotedRecord(text, pos, final);
      if (!quoted) break; // a quoted field runs past the text received so far
      out.push(quoted.record);
      pos = quoted.next;
    }
    this.pending = pos >= text.length ? '' : text.slice(pos);
    return out;
  }

  /**
   * Reads one record with quoted fields from `start`; null when it needs more text. A malformed record
   * (a quote inside an unquoted field, text after a closing quote, a quote never closed) is unreadable
   * from its start to the end of the line where the problem shows.
   */
  private quotedRecord(
    text: string,
    start: number,
    final: boolean,
  ): { record: CsvRecord; next: number } | null {
    const delimiter = this.delimiter;
    const cells: string[] = [];
    let lines = 0;
    let pos = start;
    const unreadable = (at: number) => {
      let nl = text.indexOf('\n', at);
      if (nl === -1) nl = text.length;
      const record: CsvRecord = { cells: null, line: this.line + lines };
      this.line += lines + 1;
      return { record, next: nl + 1 };
    };
    for (;;) {
      if (text.charCodeAt(pos) === 34) {
        // A quoted field: up to the quote that is not doubled.
        let value = '';
        let from = pos + 1;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1) {
            if (!final) return null;
            return unreadable(text.length);
          }
          if (q + 1 >= text.length && !final) return null;
          const segment = text.slice(from, q);
          for (let i = segment.indexOf('\n'); i !== -1; i = segment.indexOf('\n', i + 1)) lines += 1;
          value += segment;
          if (text.charCodeAt(q + 1) === 34) {
            value += '"';
            from = q + 2;
            continue;
          }
          pos = q + 1;
          break;
        }
        cells.push(value);
        const c = text.charCodeAt(pos);
        if (text.startsWith(delimiter, pos)) {
          pos += 1;
          continue;
        }
        if (Number.isNaN(c) || c === 10 || (c === 13 && text.charCodeAt(pos + 1) === 10)) {
          const nl = Number.isNaN(c) ? text.length : c === 13 ? pos + 1 : pos;
          if (Number.isNaN(c) && !final) return null;
          const record: CsvRecord = { cells, line: this.line + lines };
          this.line += lines + 1;
          return { record, next: nl + 1 };
        }
        if (c === 13 && pos + 1 >= text.length && !final) return null;
        return unreadable(pos);
      }
      // An unquoted field: up to the next delimiter or the end of the line; no quote may appear in it.
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) return null;
        nl = text.length;
      }
      const lineEnd = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const d = text.indexOf(delimiter, pos);
      const fieldEnd = d !== -1 && d < lineEnd ? d : lineEnd;
      const field = text.slice(pos, fieldEnd);
      if (field.includes('"')) return unreadable(pos);
      cells.push(field);
      if (fieldEnd === lineEnd) {
        const record: CsvRecord = { cells, line: this.line + lines };
        this.line += lines + 1;
        return { record, next: nl + 1 };
      }
      pos = fieldEnd + 1;
    }
  }
}

/** The separator (`;` or `,`) that splits the first line of `head` most. */
function delimiterOf(head: Buffer): ';' | ',' {
  const firstLine = head.toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  return firstLine.split(';').length >= firstLine.split(',').length ? ';' : ',';
}

/**
 * The rows of a CSV body as `RawRow`s, after checking the header (a bad header throws a
 * `DeliveryError` 422 before any row is read). `row` is the line number in the file, the header being 1;
 * a row with the wrong number of cells or broken quoting is one rejected row, not a failed file.
 */
export async function csvRows(body: Readable, maxBytes: number): Promise<AsyncGenerator<RawRow>> {
  const limited = body.pipe(byteLimit(maxBytes));
  body.on('error', (err) => limited.destroy(err));
  const chunks = limited[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The first line (or 64 KiB) chooses the delimiter. Read through the same iterator as the rest: a small
  // body arrives in one chunk and ends the stream at once, so it cannot be put back into the stream.
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  for (;;) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
    if (next.value.includes(0x0a) || headLength > 64 * 1024) break;
  }
  const first = Buffer.concat(head);
  const splitter = new CsvSplitter(delimiterOf(first));
  // The decoder drops a leading BOM and turns bytes that are not UTF-8 into U+FFFD.
  const decoder = new TextDecoder('utf-8');
  let pending: CsvRecord[] = splitter.push(decoder.decode(first, { stream: true }));
  if (ended) pending = [...pending, ...splitter.push(decoder.decode()), ...splitter.end()];
  /** The next records, reading on until the text received completes at least one (empty at the end). */
  const nextRecords = async (): Promise<CsvRecord[]> => {
    if (pending.length > 0) {
      const records = pending;
      pending = [];
      return records;
    }
    while (!ended) {
      const next = await chunks.next();
      const records = next.done
        ? [...splitter.push(decoder.decode()), ...splitter.end()]
        : splitter.push(decoder.decode(next.value, { stream: true }));
      if (next.done) ended = true;
      if (records.length > 0) return records;
    }
    return [];
  };

  let records = await nextRecords();
  const header = records[0];
  if (!header)
    throw new DeliveryError(422, 'de levering bevat geen kopregel', [
      { row: 1, field: '(kopregel)', reason: 'ontbreekt' },
    ]);
  if (!header.cells) {
    limited.destroy();
    if (header.tooLong) {
      throw new DeliveryError(422, 'de eerste regel van de levering is geen kopregel: hij is te lang', [
        { row: 1, ...TOO_LONG_ROW },
      ]);
    }
    throw new DeliveryError(422, 'de kopregel van de levering is ongeldig', [{ row: 1, ...UNREADABLE_ROW }]);
  }
  const headers = header.cells.map((h) => h.trim());
  const problems = headerProblems(headers);
  if (problems.length > 0) {
    limited.destroy();
    const noHeader = !headers.some((h) => CSV_HEADERS.includes(h));
    throw new DeliveryError(
      422,
      noHeader
        ? 'de eerste regel van de levering is geen kopregel: zet de kolomnamen op de eerste regel'
        : 'de kopregel van de levering is ongeldig',
      problems,
    );
  }
  records = records.slice(1);

  return (async function* rows(): AsyncGenerator<RawRow> {
    try {
      for (;;) {
        for (const record of records) {
          const { cells, line } = record;
          if (!cells) {
            yield { row: line, problems: ['tooLong' in record ? TOO_LONG_ROW : UNREADABLE_ROW] };
            continue;
          }
          if (cells.length !== headers.length) {
            yield { row: line, problems: [UNREADABLE_ROW] };
            continue;
          }
          let encoding: Problem[] | null = null;
          for (let i = 0; i < cells.length; i += 1) {
            if (cells[i]!.includes('\uFFFD')) {
              encoding ??= [];
              encoding.push({ field: headers[i]!, reason: 'is geen geldige UTF-8' });
            }
          }
          if (encoding) yield { row: line, problems: encoding };
          else yield { row: line, input: signalFromCells(headers, cells) };
        }
        if (ended) return;
        records = await nextRecords();
      }
    } finally {
      // A consumer that stops early (row limit, failure) leaves no half-read request behind.
      if (!ended) limited.destroy();
    }
  })();
}
