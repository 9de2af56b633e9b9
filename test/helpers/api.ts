/** The API on the real servers for route and browser tests: a harness with a worker, and the app over it. */
import type { FastifyInstance } from 'fastify';
import { type ApiDependencies, buildServer } from '../../api/server.js';
import { MUNICIPALITY } from './fixtures.js';
import { createHarness, type TestHarness } from './temporal.js';

/** Opens a harness, starts its worker and builds the app (not listening); close both in `afterAll`. */
export async function startApiHarness(
  extra: Partial<ApiDependencies> = {},
): Promise<{ h: TestHarness; app: FastifyInstance }> {
  const h = await createHarness();
  await h.startWorker();
  const app = await buildServer({
    db: h.db,
    temporal: h.client,
    taskQueue: h.taskQueue,
    municipality: MUNICIPALITY,
    ...extra,
  });
  return { h, app };
}
