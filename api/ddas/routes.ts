/**
 * The DDAS vroegsignalering interface for CBS (`DDAS-VS.yaml` v1.0), mounted at DDAS_MOUNT_PATH:
 * `POST /gegevens` behind OAuth 2.0 client-credentials tokens, with JAdES-signed request and response
 * bodies and FSC-style `application/problem+json` errors; plus the demo token endpoint `POST /oauth/token`
 * when no external authorisation server is configured.
 *
 * Nothing here logs or echoes a request or response body: it may hold BSNs and addresses.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/database.js';
import { type Config, loadConfig } from '../../lib/config.js';
import { isRateLimited, perMinuteLimit } from '../security.js';
import { answerServerFailure, BUSY_MESSAGE, isServerFailure } from '../server-errors.js';
import { createTokenVerifier, type TokenFailure, type TokenVerifier } from './auth.js';
import { buildDelivery, type DeliverySettings, UnprocessableRequest } from './delivery.js';
import {
  loadSigningMaterial,
  parseCertificates,
  type SigningMaterial,
  signBody,
  verifyBody,
} from './signing.js';

export interface DdasRouteDependencies {
  db: Db;
  municipality: string;
  config?: Config | undefined;
  /** Overrides the key and certificate from configuration (tests, benchmark). */
  signing?: SigningMaterial;
  /** Overrides the token verifier built from configuration. */
  tokens?: TokenVerifier;
}

const PROBLEM_BASE = 'https://vroegsignalering.example/problems/ddas';

const FSC_TITLES: Record<
  TokenFailure | 'ERROR_CODE_SERVICE_NOT_FOUND' | 'ERROR_CODE_METHOD_UNSUPPORTED',
  string
> = {
  ERROR_CODE_ACCESS_TOKEN_MISSING: 'Access token ontbreekt',
  ERROR_CODE_ACCESS_TOKEN_INVALID: 'Ongeldige access token',
  ERROR_CODE_ACCESS_TOKEN_EXPIRED: 'Access token is verlopen',
  ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN: 'Geen toegang met deze access token',
  ERROR_CODE_SERVICE_NOT_FOUND: 'Service niet gevonden',
  ERROR_CODE_METHOD_UNSUPPORTED: 'HTTP-methode niet ondersteund',
};

/** An FSC error (FscError and ProblemDetails in one body) with its `Fsc-Error-Code` header. */
function fscError(
  reply: FastifyReply,
  status: number,
  code: keyof typeof FSC_TITLES,
  detail: string,
): FastifyReply {
  return reply
    .code(status)
    .header('Fsc-Error-Code', code)
    .type('application/problem+json')
    .send({
      type: `${PROBLEM_BASE}/${code.toLowerCase().replace(/_/g, '-')}`,
      title: FSC_TITLES[code],
      status,
      detail,
      code,
      domain: 'ERROR_DOMAIN_INWAY',
    });
}

function problem(reply: FastifyReply, status: number, slug: string, title: string, detail: string) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `${PROBLEM_BASE}/${slug}`, title, status, detail });
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'verwacht een datum JJJJ-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v),
    'geen geldige datum',
  );

/** GegevensRequest of DDAS-VS v1.0 (additionalProperties: false). */
const gegevensRequest = z
  .object({
    aanleverperiodeStartdatum: isoDate.optional(),
    aanleverperiodeEinddatum: isoDate.optional(),
    aanleverende_organisatie: z.string().optional(),
    page: z.number().int().min(1).optional(),
    pageSize: z.number().int().min(1).optional(),
  })
  .strict();

class BodyError extends Error {
  override name = 'BodyError';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact request body bytes (DDAS routes only), for signature verification. */
    ddasRawBody?: Buffer;
  }
}

/** Registers the DDAS routes under DDAS_MOUNT_PATH. */
export function registerDdasRoutes(app: FastifyInstance, deps: DdasRouteDependencies): void {
  const config = deps.config ?? loadConfig({});
  const settings: DeliverySettings = {
    municipality: deps.municipality,
    supplierCode: config.DDAS_SUPPLIER_CODE,
    organisationName: config.DDAS_ORGANISATION_NAME ?? `Gemeente ${deps.municipality}`,
    organisationKvk: config.DDAS_ORGANISATION_KVK,
  };
  const tokens =
    deps.tokens ??
    createTokenVerifier({
      scope: config.DDAS_OAUTH_SCOPE,
      audience: config.DDAS_OAUTH_AUDIENCE,
      jwksUrl: config.DDAS_OAUTH_JWKS_URL,
      issuer: config.DDAS_OAUTH_ISSUER,
      clientId: config.DDAS_CLIENT_ID,
      clientSecret: config.DDAS_CLIENT_SECRET,
    });
  // Loaded on first use, so building the server (health checks, tests) touches no files.
  let signing = deps.signing;
  const signingMaterial = () => {
    signing ??= ddasSigningMaterial(config);
    return signing;
  };
  const trusted = config.DDAS_TRUSTED_CERTS_FILE
    ? parseCertificates(readFileSync(config.DDAS_TRUSTED_CERTS_FILE, 'utf8'))
    : undefined;

  app.register(
    async (scope) => {
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
        const raw = body as Buffer;
        request.ddasRawBody = raw;
        if (raw.length === 0) return done(null, {});
        try {
          done(null, JSON.parse(raw.toString('utf8')));
        } catch {
          // The parser's message quotes the body; never pass it on.
          done(new BodyError('de body is geen geldige JSON'), undefined);
        }
      });
      if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) {
        scope.addContentTypeParser(
          'application/x-www-form-urlencoded',
          { parseAs: 'string' },
          (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
        );
      }

      scope.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
        if (isRateLimited(err))
          return problem(reply, 429, 'te-veel-verzoeken', 'Te veel verzoeken', err.message);
        if (err instanceof BodyError)
          return problem(reply, 400, 'ongeldig-request', 'Ongeldig request', err.message);
        if (!isServerFailure(err)) {
          return problem(
            reply,
            err.statusCode ?? 400,
            'ongeldig-request',
            'Ongeldig request',
            'het request is niet verwerkbaar',
          );
        }
        if (answerServerFailure(request, reply, err, 'DDAS request failed') === 'busy') {
          return problem(reply, 503, 'even-druk', 'Dienst even druk', BUSY_MESSAGE);
        }
        return problem(
          reply,
          reply.statusCode,
          'interne-fout',
          'Interne fout',
          'de gegevens konden niet worden opgesteld',
        );
      });
      scope.setNotFoundHandler((request, reply) =>
        fscError(reply, 404, 'ERROR_CODE_SERVICE_NOT_FOUND', `geen service op ${request.url.split('?')[0]}`),
      );

      scope.post('/gegevens', async (request: FastifyRequest, reply) => {
        const auth = await tokens.verify(request.headers.authorization);
        if (!auth.ok) {
          const status = auth.code === 'ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN' ? 403 : 401;
          if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
          return fscError(reply, status, auth.code, FSC_TITLES[auth.code]);
        }

        const signatureHeader = request.headers['nlgov-adr-payload-sig'];
        const signature = Array.isArray(signatureHeader) ? signatureHeader[0] : signatureHeader;
        if (signature || config.DDAS_REQUEST_SIGNATURE === 'required') {
          const digestHeader = request.headers.digest;
          const verified = await verifyBody(
            request.ddasRawBody ?? Buffer.alloc(0),
            { signature, digest: Array.isArray(digestHeader) ? digestHeader[0] : digestHeader },
            trusted ? { trusted } : {},
          );
          if (!verified.ok) {
            return problem(reply, 400, 'ongeldige-handtekening', 'Ongeldige handtekening', verified.reason);
          }
        }

        const parsed = gegevensRequest.safeParse(request.body ?? {});
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          // An unknown key is the caller's own text: its place is named, the key is not repeated.
          const unknown = issue?.code === 'unrecognized_keys';
          const field = issue?.path.join('.') || (unknown ? '(onbekend veld)' : '');
          const reason = unknown
            ? 'onbekend veld (de naam wordt niet herhaald)'
            : (issue?.message ?? 'ongeldig');
          return problem(
            reply,
            400,
            'ongeldig-request',
            'Ongeldig request',
            `${field ? `${field}: ` : ''}${reason}`,
          );
        }
        let delivery: Awaited<ReturnType<typeof buildDelivery>>;
        try {
          delivery = await buildDelivery(deps.db, parsed.data, settings);
        } catch (err) {
          if (err instanceof UnprocessableRequest) {
            return problem(reply, 422, 'niet-verwerkbaar', 'Request niet verwerkbaar', err.message);
          }
          throw err;
        }
        const { body } = delivery;
        const headers = await signBody(body, signingMaterial());
        return reply
          .code(200)
          .type('application/json; charset=utf-8')
          .header('Digest', headers.Digest)
          .header('nlgov-adr-payload-sig', headers['nlgov-adr-payload-sig'])
          .header('Cache-Control', 'no-store')
          .send(body);
      });

      scope.route({
        method: ['GET', 'PUT', 'PATCH', 'DELETE'],
        url: '/gegevens',
        handler: (request, reply) =>
          fscError(
            reply.header('Allow', 'POST'),
            405,
            'ERROR_CODE_METHOD_UNSUPPORTED',
            `${request.method} wordt niet ondersteund; gebruik POST`,
          ),
      });

      if (tokens.issuesTokens) {
        // Guessing the client secret: a few tries a minute per address.
        const tokenLimit = await perMinuteLimit(scope, 'ddas-token', config.DDAS_TOKEN_RATE_LIMIT);
        scope.post('/oauth/token', { onRequest: tokenLimit }, async (request, reply) => {
          reply.header('Cache-Control', 'no-store');
          const form = (request.body ?? {}) as Record<string, unknown>;
          if (form.grant_type !== 'client_credentials') {
            return reply.code(400).send({ error: 'unsupported_grant_type' });
          }
          let clientId = typeof form.client_id === 'string' ? form.client_id : '';
          let clientSecret = typeof form.client_secret === 'string' ? form.client_secret : '';
          const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
          if (basic) {
            const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
            const colon = decoded.indexOf(':');
            clientId = decodeURIComponent(decoded.slice(0, colon));
            clientSecret = decodeURIComponent(decoded.slice(colon + 1));
          }
          const issued = await tokens.issue(clientId, clientSecret);
          if (!issued) {
            return reply.code(401).header('WWW-Authenticate', 'Basic').send({ error: 'invalid_client' });
          }
          return {
            access_token: issued.token,
            token_type: 'Bearer',
            expires_in: issued.expiresIn,
            scope: config.DDAS_OAUTH_SCOPE,
          };
        });
      }
    },
    { prefix: config.DDAS_MOUNT_PATH },
  );
}

/** The configured signing key and certificate, or the demo pair under DATA_DIR/ddas (made on first use). */
export function ddasSigningMaterial(config: Config): SigningMaterial {
  if (Boolean(config.DDAS_SIGNING_KEY_FILE) !== Boolean(config.DDAS_SIGNING_CERT_FILE)) {
    throw new Error('set both DDAS_SIGNING_KEY_FILE and DDAS_SIGNING_CERT_FILE, or neither');
  }
  return loadSigningMaterial({
    keyFile: config.DDAS_SIGNING_KEY_FILE,
    certFile: config.DDAS_SIGNING_CERT_FILE,
    kid: config.DDAS_SIGNING_KID,
    demoDir: join(config.DATA_DIR, 'ddas'),
    subject: `vroegsignalering DDAS demo ${config.MUNICIPALITY_CODE}`,
  });
}
