/**
 * `POST /api/v1/objections`: a partner reports that a resident objected to the sharing of their data (in
 * the partner's reminder). The resident goes on the municipality's objection register, and their signals,
 * from any partner, start no outreach ("Niet opgepakt: andere reden"). Outreach already running for them
 * stops too: the register entry and a notice to their case (objection outbox) commit together, and the
 * dispatcher beside the workers delivers the notice. This route never waits for Temporal, so an outage
 * changes nothing in the answer.
 *
 * Idempotent, and deliberately uninformative: every accepted request answers 201 with the same body,
 * whether the register already held the resident or not, so a partner cannot probe the register for
 * objections made to another partner or at a visit. For the same reason there is no reading and no
 * withdrawal by partners: the register holds one entry per resident whoever reported it, so a partner's
 * withdrawal could lift an objection the resident made elsewhere. A resident who withdraws tells the
 * municipality (`npm run admin -- objection:withdraw`).
 *
 * Registered inside the partner scope of `index.ts`, so the bearer token, the error handler and the
 * documentation are those of the signal routes. Messages name the field and the rule, never the value.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../../db/database.js';
import { addObjection, type ObjectionIdentity } from '../../../db/repositories/objections.js';
import { type Problem, problemsOf, signalSchema } from './signal-schema.js';

const residentFields = signalSchema.shape.resident.shape;
const addressFields = signalSchema.shape.address.shape;
const objectMessage = (issue: { input: unknown }) =>
  issue.input === undefined || issue.input === null ? 'verplicht veld ontbreekt' : 'moet een object zijn';

/** The identity of the resident who objected: a BSN, or birth date + surname + address, or both. */
export const objectionSchema = z
  .strictObject(
    {
      resident: z.strictObject(
        {
          bsn: residentFields.bsn,
          surnamePrefix: residentFields.surnamePrefix,
          surname: residentFields.surname.nullish(),
          birthDate: residentFields.birthDate.nullish(),
        },
        { error: objectMessage },
      ),
      address: z
        .strictObject(
          {
            postcode: addressFields.postcode,
            houseNumber: addressFields.houseNumber,
            houseNumberAddition: addressFields.houseNumberAddition,
          },
          { error: objectMessage },
        )
        .nullish(),
    },
    { error: objectMessage },
  )
  .superRefine((body, ctx) => {
    // Without a BSN the resident is matched on birth date + address + surname, so all three are needed;
    // with a BSN they are optional, but a partial set would be silently useless, so it is refused too.
    const parts = [
      ['resident.surname', body.resident.surname],
      ['resident.birthDate', body.resident.birthDate],
      ['address', body.address],
    ] as const;
    const given = parts.filter(([, v]) => v != null).length;
    if (given === parts.length || (body.resident.bsn && given === 0)) return;
    const reason = body.resident.bsn
      ? 'verplicht zodra geboortedatum, achternaam of adres is opgegeven'
      : 'verplicht veld ontbreekt (of geef een bsn)';
    for (const [path, value] of parts) {
      if (value == null) ctx.addIssue({ code: 'custom', path: path.split('.'), message: reason });
    }
  });

/** The result of validating an objection: the identity, or every problem (field and reason). */
export type ValidatedObjection =
  | { ok: true; identity: ObjectionIdentity }
  | { ok: false; problems: Problem[] };

/** Validates one objection body (JSON, or a CSV row nested the same way); `row` numbers the problems. */
export function validateObjection(input: unknown, row?: number): ValidatedObjection {
  const parsed = objectionSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error, row) };
  const { resident: r, address: a } = parsed.data;
  return {
    ok: true,
    identity: {
      bsn: r.bsn ?? null,
      person:
        r.surname && r.birthDate && a
          ? {
              surnamePrefix: r.surnamePrefix ?? null,
              surname: r.surname,
              birthDate: r.birthDate,
              postcode: a.postcode,
              houseNumber: a.houseNumber,
              houseNumberAddition: a.houseNumberAddition ?? null,
            }
          : null,
    },
  };
}

const registeredSchema = z.object({
  status: z.enum(['registered']),
  message: z.string(),
});
const problemsSchema = z.object({
  error: z.string(),
  message: z.string(),
  problems: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
});

/** The OpenAPI 3.0 form of a zod schema, for `/openapi.json`. */
const openApi = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
  });
  return rest;
};

const REGISTERED = {
  status: 'registered',
  message: 'Het bezwaar staat in het register: signalen over deze inwoner leiden niet tot contact.',
} as const;

export interface ObjectionRouteOptions {
  db: Db;
  municipality: string;
  secret: string;
}

/** Registers `POST /api/v1/objections` in the (authenticated) partner scope. */
export function registerObjectionRoutes(scope: FastifyInstance, options: ObjectionRouteOptions): void {
  scope.post(
    '/api/v1/objections',
    {
      bodyLimit: 8 * 1024,
      schema: {
        summary: 'Report that a resident objected to sharing their data',
        description:
          'Puts the resident on the objection register: their signals (from any partner) start no outreach, ' +
          'and outreach already running for them stops (the round ends as "Niet opgepakt: andere reden"). ' +
          'Identify the resident by `resident.bsn`, or by `resident.birthDate` + `resident.surname` + `address`, ' +
          'or both (recommended: signals without a BSN are then matched too). Idempotent: every accepted ' +
          'request answers 201 with the same body, also when the register already held the resident, so ' +
          'the answer reveals nothing about objections made elsewhere. Partners cannot read or withdraw ' +
          'entries; a resident who withdraws the objection tells the municipality.',
        tags: ['objections'],
        security: [{ partnerToken: [] }],
        body: openApi(objectionSchema, 'input'),
        response: {
          201: { description: 'the resident is on the register', ...openApi(registeredSchema, 'output') },
          401: openApi(problemsSchema, 'output'),
          413: openApi(problemsSchema, 'output'),
          415: openApi(problemsSchema, 'output'),
          422: { description: 'every problem, with field and reason', ...openApi(problemsSchema, 'output') },
        },
      },
    },
    async (request, reply) => {
      // The partner scope also accepts CSV (streamed for batches); an objection is JSON only.
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
        return reply
          .code(415)
          .send({ error: 'unsupported_media_type', message: 'stuur JSON (Content-Type: application/json)' });
      }
      const validated = validateObjection(request.body);
      if (!validated.ok) {
        return reply
          .code(422)
          .send({ error: 'invalid', message: 'het bezwaar is ongeldig', problems: validated.problems });
      }
      await addObjection(
        options.db,
        { municipality: options.municipality, secret: options.secret, source: 'partner' },
        validated.identity,
      );
      return reply.code(201).send(REGISTERED);
    },
  );
}
