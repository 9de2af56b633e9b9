/**
 * Structured logging (pino). Personal data must never be logged: callers log ids, never residents;
 * the redaction list is a second line of defence for fields that slip through.
 */
import { type Logger, pino } from 'pino';

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

/** Creates the process logger; `level` comes from LOG_LEVEL. */
export function createLogger(level: string, name = 'vroegsignalering'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        ...PERSONAL_FIELDS,
        ...PERSONAL_FIELDS.map((f) => `*.${f}`),
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[verwijderd]',
    },
  });
}
