/**
 * One-dimensional arrays as binary query parameters. node-postgres sends a `Buffer` parameter in binary
 * format, and with a cast such as `${uuidArray(ids)}::uuid[]` the server reads it with `array_recv`: each
 * element is copied, not parsed from text. Intake passes every column of a 5,000-row chunk this way (see
 * `storeSignals`), some 30 arrays per chunk: parsing text arrays cost PostgreSQL about a microsecond per
 * element, and building and escaping them cost as much on this side.
 *
 * Layout (PostgreSQL `array_send`): ndim, has-nulls flag, element type OID, then per dimension its length
 * and lower bound (1), then per element its byte length (-1 for NULL) and bytes. The element OID must match
 * the cast's element type, which is why each element type has its own function.
 */

const OID = { bool: 16, int8: 20, int4: 23, text: 25, date: 1082, uuid: 2950 } as const;
const HEADER = 20;
/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch. */
const PG_EPOCH_DAYS = 10_957;
const DAY_MS = 86_400_000;

function header(out: Buffer, oid: number, length: number, hasNulls: boolean): void {
  out.writeInt32BE(1, 0);
  out.writeInt32BE(hasNulls ? 1 : 0, 4);
  out.writeInt32BE(oid, 8);
  out.writeInt32BE(length, 12);
  out.writeInt32BE(1, 16);
}

/** Fixed-width elements (`size` bytes each, never NULL) written by `write(out, offset, value)`. */
function fixed<T>(
  oid: number,
  size: number,
  values: readonly T[],
  write: (out: Buffer, at: number, value: T) => void,
): Buffer {
  const out = Buffer.allocUnsafe(HEADER + values.length * (4 + size));
  header(out, oid, values.length, false);
  let at = HEADER;
  for (const v of values) {
    out.writeInt32BE(size, at);
    write(out, at + 4, v);
    at += 4 + size;
  }
  return out;
}

/** The value of each hex digit by character code, -1 for any other character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i += 1) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i += 1) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

/** `uuid[]` from canonical UUID strings (8-4-4-4-12 hex digits). */
export function uuidArray(values: readonly string[]): Buffer {
  return fixed(OID.uuid, 16, values, (out, at, v) => {
    // Digit by digit (a Buffer.write per group costs four times as much; intake sends 15,000 ids a chunk).
    let bad = v.length !== 36;
    let o = at;
    for (let i = 0; i < 36 && !bad; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        bad = v.charCodeAt(i) !== 45;
        i -= 1;
        continue;
      }
      const hi = HEX_VALUE[v.charCodeAt(i)] ?? -1;
      const lo = HEX_VALUE[v.charCodeAt(i + 1)] ?? -1;
      bad = hi < 0 || lo < 0;
      out[o] = (hi << 4) | lo;
      o += 1;
    }
    if (bad) throw new TypeError('uuidArray: not a UUID');
  });
}

/** `date[]` from YYYY-MM-DD strings (days since 2000-01-01). */
export function dateArray(values: readonly string[]): Buffer {
  return fixed(OID.date, 4, values, (out, at, v) => {
    const ms = Date.UTC(Number(v.slice(0, 4)), Number(v.slice(5, 7)) - 1, Number(v.slice(8, 10)));
    if (Number.isNaN(ms) || v.length !== 10) throw new TypeError('dateArray: not a YYYY-MM-DD date');
    out.writeInt32BE(ms / DAY_MS - PG_EPOCH_DAYS, at);
  });
}

/** `int4[]` from safe 32-bit integers. */
export function int4Array(values: readonly number[]): Buffer {
  return fixed(OID.int4, 4, values, (out, at, v) => {
    out.writeInt32BE(v, at);
  });
}

/** `int8[]` from safe integers (for amounts in cents, for instance). */
export function int8Array(values: readonly number[]): Buffer {
  return fixed(OID.int8, 8, values, (out, at, v) => {
    if (!Number.isSafeInteger(v)) throw new TypeError('int8Array: not a safe integer');
    out.writeBigInt64BE(BigInt(v), at);
  });
}

/** `boolean[]`. */
export function boolArray(values: readonly boolean[]): Buffer {
  return fixed(OID.bool, 1, values, (out, at, v) => {
    out.writeUInt8(v ? 1 : 0, at);
  });
}

/** `text[]` (UTF-8), NULL for null. Cast on the server for other text-like types (an enum, say). */
export function textArray(values: ReadonlyArray<string | null>): Buffer {
  let size = HEADER;
  let hasNulls = false;
  for (const v of values) {
    if (v === null) hasNulls = true;
    else size += Buffer.byteLength(v, 'utf8');
    size += 4;
  }
  const out = Buffer.allocUnsafe(size);
  header(out, OID.text, values.length, hasNulls);
  let at = HEADER;
  for (const v of values) {
    if (v === null) {
      out.writeInt32BE(-1, at);
      at += 4;
    } else {
      const length = out.write(v, at + 4, 'utf8');
      out.writeInt32BE(length, at);
      at += 4 + length;
    }
  }
  return out;
}
