/**
 * Routes for the vaste-lastenpartners: signal intake (single and batch, JSON and CSV), batch reports and
 * partner feedback, behind a bearer token per partner organisation. The organisation and its partner type
 * come from the token, never from the body. Also serves the OpenAPI description (`/openapi.json`, `/docs`).
 *
 * Bodies are validated by the zod schemas in `signal-schema.ts` inside the handlers (so every problem is
 * reported with row, field and reason); the route schemas are the same zod schemas as JSON Schema, for
 * the documentation only.
 */

import type { Readable } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { getBatchReport } from '../../../db/repositories/batches.js';
import { type AuthenticatedPartner, findPartnerByToken } from '../../../db/repositories/partner-tokens.js';
import { isRateLimited, perMinuteLimit } from '../../security.js';
import type { ServerDependencies } from '../../server.js';
import {
  answerServerFailure,
  BUSY_MESSAGE,
  clientMessage,
  INTERNAL_MESSAGE,
  isServerFailure,
} from '../../server-errors.js';
import { csvRows, DeliveryError } from './csv.js';
import { partnerFeedback } from './feedback.js';
import {
  acceptBatch,
  acceptSignal,
  type DeliveryCounts,
  type IntakeContext,
  type RawRow,
  storedBeforeFailure,
} from './intake.js';
import { registerObjectionRoutes } from './objections.js';
import { CSV_HEADERS, type Problem, signalSchema, validateSignal } from './signal-schema.js';

declare module 'fastify' {
  interface FastifyRequest {
    partner?: AuthenticatedPartner;
  }
}

const problemSchema = z.object({
  row: z
    .number()
    .int()
    .optional()
    .describe('JSON: position in `signals` (1-based); CSV: line in the file (header = 1)'),
  field: z
    .string()
    .describe(
      'field path, e.g. `resident.bsn` (CSV: the column name; `kolom <n>` for a header cell that is no column name)',
    ),
  reason: z.string().describe('why the value was refused (Dutch); never the value itself'),
});
const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  problems: z.array(problemSchema).optional(),
  batchId: z.string().optional(),
});
const signalAcceptedSchema = z.object({
  signalId: z.uuid(),
  status: z
    .enum(['received', 'duplicate'])
    .describe(
      'receipt only: `received` (stored now) or `duplicate` (this partnerReference was received before). ' +
        'It says nothing about whether the signal is taken up; that comes through `GET /api/v1/partner-feedback`',
    ),
  duplicate: z
    .boolean()
    .describe('true when this partnerReference was received before; nothing new was created'),
  classification: z
    .enum(['single', 'consecutive'])
    .describe('consecutive: this partner reported the resident in an earlier month'),
});
const countsSchema = z.object({
  received: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  duplicate: z.number().int(),
});
const batchAcceptedSchema = countsSchema.extend({ batchId: z.uuid(), status: z.enum(['accepted']) });
const batchTooLargeSchema = errorSchema.extend(countsSchema.partial().shape).extend({
  batchId: z
    .uuid()
    .optional()
    .describe(
      'present when the delivery was cut off while streaming (no Content-Length): the counts are the rows ' +
        'stored before the limit; they stay stored, and a re-send reports them as duplicate',
    ),
});
const batchReportSchema = countsSchema.extend({
  batchId: z.uuid(),
  status: z.enum(['receiving', 'accepted', 'rejected', 'failed']),
  format: z.enum(['json', 'csv']),
  receivedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  started: z.number().int().describe('accepted signals already handed to their case'),
  consecutive: z
    .number()
    .int()
    .describe('accepted signals about a resident this partner reported in an earlier month'),
  rejectedRows: z.array(problemSchema.required({ row: true })),
});
/** The years an instant from a partner may name: PostgreSQL refuses year 0, and later ones mean a typo. */
const YEARS = { min: 2000, max: 9999 } as const;
const feedbackQuerySchema = z.strictObject({
  since: z.iso
    .datetime({ offset: true, error: 'moet een tijdstip zijn (ISO 8601)' })
    // The first four characters of an ISO 8601 instant are its year.
    .refine((v) => Number(v.slice(0, 4)) >= YEARS.min && Number(v.slice(0, 4)) <= YEARS.max, {
      error: `moet een tijdstip tussen de jaren ${YEARS.min} en ${YEARS.max} zijn`,
    })
    // What PostgreSQL's timestamptz takes: at most microseconds, and offsets within ±14:00.
    .refine((v) => !/\.\d{7,}/.test(v), { error: 'heeft hoogstens 6 cijfers achter de seconden' })
    .refine(
      (v) => {
        const m = /([+-])(\d{2}):?(\d{2})$/.exec(v);
        return !m || Number(m[2]) * 60 + Number(m[3]) <= 14 * 60;
      },
      {
        error: 'heeft een tijdzone tussen -14:00 en +14:00',
      },
    )
    .optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});
const feedbackSchema = z.object({
  feedback: z.array(
    z.object({
      signalId: z.uuid(),
      partnerReference: z.string(),
      pickedUp: z.boolean().describe('the municipality took the signal up (outreach happened)'),
      declined: z.boolean().describe('the resident declined contact'),
      at: z.iso.datetime(),
    }),
  ),
  next: z.iso.datetime().nullable().describe('pass as `since` to read on; null when nothing new'),
});

/** JSON Schema (OpenAPI 3.0 dialect) of a zod schema, for the documentation. */
function doc(schema: z.ZodType, io: 'input' | 'output' = 'output'): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
  });
  return json;
}

const security = [{ partnerToken: [] }];
const authErrors = { 401: doc(errorSchema) };

const SIGNALS = '/api/v1/signals';
const BATCHES = '/api/v1/signal-batches';
const JSON_TYPE = /^application\/json\b/i;
const CSV_TYPE = /^text\/csv\b/i;

/** The answer to a body the route does not take (CSV for a single signal, XML, plain text, ...). */
function unsupportedMediaType(reply: FastifyReply, url: string | undefined) {
  const message =
    url === BATCHES
      ? 'stuur JSON (Content-Type: application/json) of CSV (Content-Type: text/csv)'
      : url === SIGNALS
        ? `stuur JSON (Content-Type: application/json); CSV kan alleen als levering naar ${BATCHES}`
        : 'stuur JSON (Content-Type: application/json)';
  return reply.code(415).send({ error: 'unsupported_media_type', message });
}

/** The 413 message when nothing of the body was stored. */
function tooLarge(limit: number | undefined): string {
  return `de body is groter dan toegestaan${limit ? ` (${limit} bytes)` : ''}; er is niets opgeslagen`;
}

/**
 * The 413 message for a delivery cut off while streaming: the rows before the limit (the first
 * `received` ones, as chunks commit in order) are stored and stay; a re-send reports them as duplicate.
 */
function cutOff(limit: number, counts: DeliveryCounts): string {
  if (counts.received === 0) return tooLarge(limit);
  return (
    `de levering is groter dan toegestaan (${limit} bytes) en is afgebroken; de eerste ${counts.received} ` +
    `rijen zijn wel verwerkt en blijven bewaard (${counts.accepted} opgeslagen, ${counts.rejected} afgewezen, ` +
    `${counts.duplicate} eerder ontvangen). Stuur de overige rijen in een kleinere levering; wie de ` +
    'verwerkte rijen opnieuw stuurt, krijgt ze gemeld als dubbel'
  );
}

/** The 503/500 message for a delivery that stopped part-way: what stays stored, and what to do. */
function stoppedPartWay(kind: 'busy' | 'internal', counts: DeliveryCounts): string {
  const why = kind === 'busy' ? 'de dienst is even te druk' : 'er ging iets mis aan onze kant';
  const kept =
    counts.received === 0
      ? 'er is niets opgeslagen'
      : `de eerste ${counts.received} rijen zijn wel verwerkt en blijven bewaard (${counts.accepted} opgeslagen, ` +
        `${counts.rejected} afgewezen, ${counts.duplicate} eerder ontvangen)`;
  return (
    `de levering is afgebroken omdat ${why}; ${kept}. Stuur de levering over enkele minuten opnieuw; ` +
    'verwerkte rijen worden dan gemeld als dubbel'
  );
}

function sendProblems(
  reply: FastifyReply,
  status: 400 | 413 | 422,
  message: string,
  problems: Problem[],
  extra = {},
) {
  return reply
    .code(status)
    .send({ error: status === 422 ? 'invalid' : 'bad_request', message, problems, ...extra });
}

/** Registers swagger, the docs page and the partner routes. */
export async function registerPartnerRoutes(app: FastifyInstance, deps: ServerDependencies): Promise<void> {
  const { config } = deps;
  // Everything partners ask goes through intake's own pool, apart from the pages' (db/pools.ts).
  const intakeDb = deps.intakeDb ?? deps.db;
  const maxBytes = config.INTAKE_MAX_BODY_BYTES;
  const maxRows = config.INTAKE_MAX_ROWS;

  await app.register(swagger, {
    // Only the JSON API (tagged routes) is described; the HTML pages, health and demo routes are not.
    hideUntagged: true,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vroegsignalering',
        version: '1',
        description:
          'Signal intake for vaste-lastenpartners: single signals, monthly batches (JSON or CSV), batch reports ' +
          'and feedback. Every request carries `Authorization: Bearer <token>`; the token names the partner ' +
          `organisation and its partner type. CSV columns: ${CSV_HEADERS.join(', ')}.`,
      },
      components: {
        securitySchemes: {
          partnerToken: { type: 'http', scheme: 'bearer', description: 'partner token (vsp_...)' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: '__Host-vs_session',
            description: 'the workspace session, set by signing in at POST /login (HttpOnly, Secure)',
          },
          csrfToken: {
            type: 'apiKey',
            in: 'header',
            name: 'x-csrf-token',
            description: "the session's CSRF token; every POST of a signed-in user needs it",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (scope) => {
    // Validation happens in the handlers (row/field/reason); schemas here document only.
    scope.setValidatorCompiler(() => () => true);
    scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
    // CSV is streamed into the intake, never buffered whole.
    scope.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

    scope.setErrorHandler((error: FastifyError, request, reply) => {
      if (isServerFailure(error)) {
        const busy = answerServerFailure(request, reply, error, 'partner request failed') === 'busy';
        return reply.send(
          busy
            ? { error: 'unavailable', message: BUSY_MESSAGE }
            : { error: 'internal', message: INTERNAL_MESSAGE },
        );
      }
      if (isRateLimited(error)) {
        return reply.code(429).send({ error: 'too_many_requests', message: error.message });
      }
      // A client error (4xx) from here on.
      const status = error.statusCode ?? 400;
      // Raised before the handler ran: nothing of the body was stored.
      if (status === 413) return sendProblems(reply, 413, tooLarge(request.routeOptions.bodyLimit), []);
      if (status === 415) return unsupportedMediaType(reply, request.routeOptions.url);
      return reply.code(status).send({ error: error.code ?? 'bad_request', message: clientMessage(error) });
    });

    // Before the token is looked up: also guessing tokens counts against the address.
    scope.addHook('onRequest', await perMinuteLimit(scope, 'partner', config.PARTNER_RATE_LIMIT));
    scope.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      const partner = match?.[1] ? await findPartnerByToken(intakeDb, match[1]) : null;
      if (!partner) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="vroegsignalering"').send({
          error: 'unauthorized',
          message: 'geldig partnertoken vereist (Authorization: Bearer ...)',
        });
      }
      request.partner = partner;
    });

    const contextOf = (request: FastifyRequest): IntakeContext => ({
      db: intakeDb,
      municipality: deps.municipality,
      secret: config.MATCHING_SECRET,
      policy: deps.policyFor(deps.municipality),
      partner: request.partner!,
    });

    scope.post(
      SIGNALS,
      {
        bodyLimit: 64 * 1024,
        schema: {
          summary: 'Deliver one signal',
          description:
            'Answers 202 with a receipt: the signal id, `received` or `duplicate`, and the classification. ' +
            'Whether the municipality takes the signal up is not in this answer (a re-send answers the ' +
            'same way); it comes through `GET /api/v1/partner-feedback`.',
          tags: ['signals'],
          security,
          body: doc(signalSchema, 'input'),
          response: {
            202: {
              description:
                'stored (`received`), or received before (`duplicate`: nothing new was created); ' +
                'its case starts shortly',
              ...doc(signalAcceptedSchema),
            },
            400: doc(errorSchema),
            413: doc(errorSchema),
            415: { description: 'the body is not JSON', ...doc(errorSchema) },
            422: doc(errorSchema),
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        // The partner scope also takes CSV (streamed, for batches); a single signal is JSON only.
        if (!JSON_TYPE.test(request.headers['content-type'] ?? ''))
          return unsupportedMediaType(reply, SIGNALS);
        const validated = validateSignal(request.body, request.partner!.partnerType);
        if (!validated.ok) return sendProblems(reply, 422, 'het signaal is ongeldig', validated.problems);
        const outcome = await acceptSignal(contextOf(request), { row: 1, record: validated.record });
        return reply.code(202).send({
          signalId: outcome.signalId,
          status: outcome.duplicate ? 'duplicate' : 'received',
          duplicate: outcome.duplicate,
          classification: outcome.classification,
        });
      },
    );

    scope.post(
      BATCHES,
      {
        bodyLimit: maxBytes,
        schema: {
          summary:
            'Deliver a monthly batch (JSON `{ "signals": [...] }` or CSV with a header row, `;` or `,`)',
          tags: ['signals'],
          security,
          body: {
            content: {
              'application/json': { schema: doc(z.object({ signals: z.array(signalSchema) }), 'input') },
              'text/csv': { schema: { type: 'string', description: `header row: ${CSV_HEADERS.join(';')}` } },
            },
          },
          response: {
            202: {
              description: 'every good row is stored; see GET for the rejected ones',
              ...doc(batchAcceptedSchema),
            },
            400: doc(errorSchema),
            413: {
              description:
                'the delivery is over the size limit; when it was cut off while streaming, the rows before ' +
                'the limit are stored: `batchId` and the counts say how many',
              ...doc(batchTooLargeSchema),
            },
            415: { description: 'the body is neither JSON nor CSV', ...doc(errorSchema) },
            422: { description: 'no row could be accepted; every problem listed', ...doc(errorSchema) },
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const contentType = request.headers['content-type'] ?? '';
        const isCsv = CSV_TYPE.test(contentType);
        if (!isCsv && !JSON_TYPE.test(contentType)) return unsupportedMediaType(reply, BATCHES);
        let rows: AsyncIterable<RawRow> | Iterable<RawRow>;
        try {
          if (isCsv) {
            const declared = Number(request.headers['content-length'] ?? 0);
            if (declared > maxBytes) throw new DeliveryError(413, 'te groot');
            rows = await csvRows(request.body as Readable, maxBytes);
          } else {
            const body = request.body as { signals?: unknown } | null;
            if (!body || typeof body !== 'object' || !Array.isArray(body.signals)) {
              throw new DeliveryError(422, 'de body moet { "signals": [...] } zijn', [
                { field: 'signals', reason: 'verplicht veld ontbreekt of is geen lijst' },
              ]);
            }
            const extra = Object.keys(body).filter((k) => k !== 'signals');
            if (extra.length > 0) {
              throw new DeliveryError(422, 'de body bevat onbekende velden', [
                {
                  field: '(onbekend veld)',
                  reason: `${extra.length} onbekend(e) veld(en) naast signals; de namen worden niet herhaald`,
                },
              ]);
            }
            rows = body.signals.map((input, i) => ({ row: i + 1, input }));
          }
        } catch (err) {
          if (err instanceof DeliveryError) {
            if (err.statusCode === 413) return sendProblems(reply, 413, tooLarge(maxBytes), []);
            return sendProblems(reply, err.statusCode, err.message, err.problems);
          }
          throw err;
        }
        let result: Awaited<ReturnType<typeof acceptBatch>>;
        try {
          const ended = deps.intakePriority?.begin();
          try {
            result = await acceptBatch(contextOf(request), isCsv ? 'csv' : 'json', rows, { maxRows });
          } finally {
            ended?.();
          }
        } catch (err) {
          if (err instanceof DeliveryError) {
            const stored = storedBeforeFailure(err);
            if (err.statusCode === 413 && stored) {
              // Cut off while streaming: the chunks committed before the limit stay (and start cases).
              return sendProblems(reply, 413, cutOff(maxBytes, stored.counts), [], {
                batchId: stored.batchId,
                ...stored.counts,
              });
            }
            if (err.statusCode === 413) return sendProblems(reply, 413, tooLarge(maxBytes), []);
            return sendProblems(reply, err.statusCode, err.message, err.problems, {
              batchId: stored?.batchId,
            });
          }
          const stored = storedBeforeFailure(err);
          if (stored) {
            // Stopped part-way (e.g. the database too busy): what was committed stays, and the partner is told.
            const kind = answerServerFailure(request, reply, err, 'signal batch stopped part-way');
            return reply.send({
              error: kind === 'busy' ? 'unavailable' : 'internal',
              message: stoppedPartWay(kind, stored.counts),
              batchId: stored.batchId,
              ...stored.counts,
            });
          }
          throw err;
        }
        if (result.status === 'rejected') {
          const report = await getBatchReport(intakeDb, request.partner!.partnerId, result.batchId);
          const problems = report?.rejectedRows ?? [];
          return sendProblems(
            reply,
            422,
            result.received === 0
              ? 'de levering bevat geen signalen'
              : 'geen enkel signaal in de levering is geldig',
            result.received === 0 ? [{ field: 'signals', reason: 'bevat geen signalen' }] : problems,
            { batchId: result.batchId },
          );
        }
        return reply.code(202).header('location', `/api/v1/signal-batches/${result.batchId}`).send({
          batchId: result.batchId,
          status: result.status,
          received: result.received,
          accepted: result.accepted,
          rejected: result.rejected,
          duplicate: result.duplicate,
        });
      },
    );

    scope.get(
      '/api/v1/signal-batches/:id',
      {
        schema: {
          summary: 'Counts and rejected rows of a batch',
          tags: ['signals'],
          security,
          params: doc(z.object({ id: z.uuid() })),
          response: { 200: doc(batchReportSchema), 404: doc(errorSchema), ...authErrors },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const valid = z.uuid().safeParse(id).success;
        const report = valid ? await getBatchReport(intakeDb, request.partner!.partnerId, id) : null;
        // Another partner's batch is "not found": its existence is not this partner's business.
        if (!report) return reply.code(404).send({ error: 'not_found', message: 'levering niet gevonden' });
        return report;
      },
    );

    scope.get(
      '/api/v1/partner-feedback',
      {
        schema: {
          summary: "Feedback on this partner's own signals: picked up or not, declined or not",
          description:
            'Oldest first, after `since`. A notification appears a few seconds after it was recorded, so ' +
            'that `next` never passes one still being recorded: poll with the last `next` and nothing is missed.',
          tags: ['feedback'],
          security,
          querystring: doc(feedbackQuerySchema, 'input'),
          response: { 200: doc(feedbackSchema), 400: doc(errorSchema), ...authErrors },
        },
      },
      async (request, reply) => {
        const parsed = feedbackQuerySchema.safeParse(request.query);
        if (!parsed.success) {
          const problems = parsed.error.issues.map((i) => ({
            field: i.code === 'unrecognized_keys' ? '(onbekende parameter)' : i.path.join('.'),
            reason:
              i.code === 'unrecognized_keys'
                ? `${i.keys.length} onbekende parameter(s); alleen since en limit bestaan (de namen worden niet herhaald)`
                : i.message,
          }));
          // Only the documented names in the message; unknown ones are the partner's own text.
          const named = [
            ...new Set(
              parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? [] : [i.path.join('.')])),
            ),
          ];
          const message =
            named.length === 0
              ? 'ongeldige parameters'
              : `ongeldige parameter${named.length > 1 ? 's' : ''}: ${named.join(', ')}`;
          return sendProblems(reply, 400, message, problems);
        }
        return partnerFeedback(intakeDb, request.partner!.partnerId, parsed.data);
      },
    );
    registerObjectionRoutes(scope, { ...deps, secret: config.MATCHING_SECRET });
  });
}
