/**
 * The one way the HTTP scopes (root, partners, DDAS) treat a server-side failure: log it once, and answer
 * 503 with Retry-After instead of 500 when the database is busy. Each scope then sends its own body shape.
 *
 * The log line holds the error (lib/errors.ts serializer), the route pattern (never the raw URL, whose query
 * may hold values), the method and, through `request.log`, the request id; never the body or the query.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseBusy, retryAfterSeconds } from '../lib/errors.js';

/** The answer's message when the database is busy (Dutch, as every message to partners and users). */
export const BUSY_MESSAGE = 'de dienst is even druk; probeer het over enkele seconden opnieuw';
/** The answer's message for any other server-side failure; the details are in the log only. */
export const INTERNAL_MESSAGE = 'interne fout; probeer het later opnieuw';

/** Whether `err` is a server-side failure: a busy database, or anything but a client error (4xx). */
export function isServerFailure(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return isDatabaseBusy(err) || typeof status !== 'number' || status < 400 || status >= 500;
}

/**
 * Logs `err` once and sets the reply's status: 503 with Retry-After for a busy database (logged as a
 * warning: a limit, not a defect), else the error's own 5xx or 500. Returns which of the two it was.
 */
export function answerServerFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  message: string,
): 'busy' | 'internal' {
  const context = { err, route: request.routeOptions.url, method: request.method };
  if (isDatabaseBusy(err)) {
    request.log.warn(context, message);
    reply.code(503).header('retry-after', String(retryAfterSeconds(err)));
    return 'busy';
  }
  request.log.error(context, message);
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  reply.code(typeof status === 'number' && status >= 500 && status <= 599 ? status : 500);
  return 'internal';
}

/** Fastify's client errors whose own message is safe to repeat, in plain Dutch. */
const CLIENT_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'de body is te groot',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'dit inhoudstype wordt hier niet ondersteund',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'de body is leeg; stuur JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'de body is geen geldige JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'de Content-Length klopt niet met de body',
};

/**
 * The message of a client error (4xx) as the answer may carry it. A parser's own message quotes the body
 * (Node's JSON.parse: `Unexpected token 'F', "Fuzzkowski..." is not valid JSON`), so only known, fixed
 * messages go out; schema validation names the field and rule, never the value.
 */
export function clientMessage(error: { code?: string; message?: string; validation?: unknown }): string {
  if (error.code && CLIENT_MESSAGES[error.code]) return CLIENT_MESSAGES[error.code]!;
  if (error instanceof SyntaxError) return CLIENT_MESSAGES.FST_ERR_CTP_INVALID_JSON_BODY!;
  if (error.validation && error.message) return error.message;
  return 'het verzoek kan niet worden verwerkt';
}
