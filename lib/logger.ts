/**
 * Structured logging (pino). Personal data must never be logged: callers log ids, never residents;
 * the redaction list is a second line of defence for fields that slip through.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { serializeError } from './errors.js';

export type { Logger };

const PERSONAL_FIELDS = [
  'bsn',
  'firstNames',
  'surname',
  'surnamePrefix',
  'birthDate',
  'phone',
  'email',
  'postcode',
  'street',
  'houseNumber',
  'houseNumberAddition',
  'city',
  'password',
  'authorization',
];

/** `pretty`: readable lines for a terminal; `json`: one JSON object per line, for log collectors. */
export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  /** From LOG_LEVEL. */
  level: string;
  name?: string;
  /** From LOG_FORMAT; unset: pretty when stdout is a terminal, JSON otherwise. */
  format?: LogFormat | undefined;
  /** Where JSON lines go instead of stdout (tests); the format is then always JSON. */
  destination?: DestinationStream;
}

/**
 * Creates the process logger. Errors under `err` or `error` go through `serializeError` (class, message,
 * code, stack, cause; never a PostgreSQL error's detail). The older form `createLogger(level, name)` stays.
 */
export function createLogger(options: LoggerOptions | string, name?: string): Logger {
  const { level, format, destination, ...named }: LoggerOptions =
    typeof options === 'string' ? { level: options, name } : options;
  const settings = {
    name: named.name ?? 'vroegsignalering',
    level,
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: [
        ...PERSONAL_FIELDS,
        ...PERSONAL_FIELDS.map((f) => `*.${f}`),
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[verwijderd]',
    },
  };
  if (destination) return pino(settings, destination);
  const chosen = format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  // In-process (no transport worker thread): pretty output is for a developer's terminal.
  if (chosen === 'pretty')
    return pino(settings, pretty({ colorize: process.stdout.isTTY ?? false, sync: true }));
  return pino(settings);
}
