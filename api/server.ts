/**
 * The HTTP server: routes grouped by audience, built from explicit dependencies so tests can pass
 * their own database and Temporal client.
 */

import { STATUS_CODES } from 'node:http';
import type { Client } from '@temporalio/client';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { type Config, isProduction, loadConfig } from '../lib/config.js';
import type { IntakePriority } from '../lib/intake-priority.js';
import type { Logger } from '../lib/logger.js';
import { loadPolicies } from '../lib/policy.js';
import type { OutreachPolicy } from '../workflows/policy.js';
import { registerDdasRoutes } from './ddas/routes.js';
import { registerCaseworkerRoutes } from './routes/caseworkers/index.js';
import { registerDemoMailRoutes } from './routes/demo-mail.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerDashboardRoutes } from './routes/manager-pages/dashboard.js';
import { registerHistoryRoutes } from './routes/manager-pages/history.js';
import { registerMonitorRoutes } from './routes/managers/monitor.js';
import { registerPartnerRoutes } from './routes/partners/index.js';
import { isRateLimited, registerSecurity } from './security.js';
import {
  answerServerFailure,
  BUSY_MESSAGE,
  clientMessage,
  INTERNAL_MESSAGE,
  isServerFailure,
} from './server-errors.js';

export interface ApiDependencies {
  /** The pages' and JSON routes' pool. */
  db: Db;
  /** Partner intake's own pool (see db/pools.ts); default `db`. */
  intakeDb?: Db;
  /** Told of each delivery while it is received, so this process's dispatcher gives way (lib/intake-priority.ts). */
  intakePriority?: IntakePriority;
  temporal: Client;
  logger?: Logger;
  taskQueue: string;
  municipality: string;
  /** Base URL of the Temporal Web UI, for links from the managers' pages. */
  temporalUiUrl?: string | null;
  /** The process configuration (tests may pass a partial one built with `loadConfig({...})`). */
  config?: Config;
  /** The outreach policy per municipality (selection rules for intake); else loaded from `POLICY_FILE`. */
  policyFor?: (municipality: string) => OutreachPolicy;
}

/** The dependencies as the routes get them: the configuration and the policies resolved once. */
export interface ServerDependencies extends ApiDependencies {
  config: Config;
  policyFor: (municipality: string) => OutreachPolicy;
}

/** Fills in what the caller left out: the configuration from the environment, the policies from POLICY_FILE. */
export function resolveDependencies(deps: ApiDependencies): ServerDependencies {
  const config = deps.config ?? loadConfig({});
  return { ...deps, config, policyFor: deps.policyFor ?? loadPolicies(config.POLICY_FILE) };
}

/** Builds the Fastify app (not yet listening). */
export async function buildServer(given: ApiDependencies): Promise<FastifyInstance> {
  const deps = resolveDependencies(given);
  const app: FastifyInstance = Fastify({
    // pino's Logger and Fastify's logger type differ only in generics.
    loggerInstance: deps.logger as FastifyBaseLogger | undefined,
    // Sign-in forms, task outcomes and DDAS requests are small: a larger body is refused before it is
    // read. The batch route raises its own limit (INTAKE_MAX_BODY_BYTES), streaming after authentication.
    bodyLimit: 256 * 1024,
    // Fastify's own request lines log the URL as sent: its path and query may hold a BSN or a name
    // (a partner's mistake). The onResponse hook below logs the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    // A URL Fastify cannot route (bad percent-encoding): its own message quotes the path.
    frameworkErrors: (_error, _request, reply) => {
      void (reply as unknown as FastifyReply)
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: 'de URL is ongeldig' });
    },
    // Behind a proxy only: otherwise a client could name any address in X-Forwarded-For.
    ...(deps.config.TRUST_PROXY ? { trustProxy: deps.config.TRUST_PROXY } : {}),
  });
  // Before the route groups, so every scope without a handler of its own inherits it. Fastify's default
  // would log the error's own fields and answer with its message, which may quote a value.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A client error keeps its status, with a message that repeats nothing of the request.
    if (!isServerFailure(error)) {
      const status = error.statusCode ?? 400;
      return reply.code(status).send({
        statusCode: status,
        error: STATUS_CODES[status] ?? 'Bad Request',
        message: isRateLimited(error) ? error.message : clientMessage(error),
      });
    }
    const busy = answerServerFailure(request, reply, error, 'request failed') === 'busy';
    return reply.send({
      statusCode: reply.statusCode,
      error: busy ? 'Service Unavailable' : 'Internal Server Error',
      message: busy ? BUSY_MESSAGE : INTERNAL_MESSAGE,
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? '(no route)',
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });
  // Fastify's own 404 repeats the method and URL (query included): a fixed message instead.
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'deze route bestaat niet' }),
  );
  // Headers, no-store and the Host check on every answer, so before the first route.
  await registerSecurity(app, deps.config);
  registerHealthRoutes(app, {
    database: async () => {
      await sql`select 1`.execute(deps.db);
    },
    temporal: async () => {
      await deps.temporal.connection.withDeadline(Date.now() + 2_000, () =>
        deps.temporal.workflowService.getSystemInfo({}),
      );
    },
  });
  // Route groups by audience register below, one line each.
  registerDdasRoutes(app, deps);
  await registerMonitorRoutes(app, deps);
  await registerPartnerRoutes(app, deps);
  await registerCaseworkerRoutes(app, deps);
  await registerHistoryRoutes(app, deps);
  registerDashboardRoutes(app, deps);
  // The demo mailbox exists only beside `npm start`'s demo SMTP server, never in production.
  if (!isProduction(deps.config)) await registerDemoMailRoutes(app, { db: deps.db });
  return app;
}
