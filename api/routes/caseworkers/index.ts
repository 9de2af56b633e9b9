/** The caseworkers' route group: sign-in, JSON API and pages of the task workspace. */
import type { FastifyInstance } from 'fastify';
import { registerAuth } from '../../auth/index.js';
import type { ServerDependencies } from '../../server.js';
import { registerCaseworkerApi } from './api.js';
import { registerCaseworkerPages } from './pages.js';

/** Registers authentication (once), the caseworker API and pages. */
export async function registerCaseworkerRoutes(
  app: FastifyInstance,
  deps: ServerDependencies,
): Promise<void> {
  await registerAuth(app, { db: deps.db, loginPerMinute: deps.config.LOGIN_RATE_LIMIT });
  registerCaseworkerApi(app, deps);
  registerCaseworkerPages(app, deps);
}
