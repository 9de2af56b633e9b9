/** `GET /health`: 200 when PostgreSQL and Temporal answer, 503 naming the part that does not. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

export interface HealthChecks {
  database(): Promise<void>;
  temporal(): Promise<void>;
}

const partStatus = z.enum(['ok', 'unreachable']);
export const healthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  database: partStatus,
  temporal: partStatus,
});
export type HealthResponse = z.infer<typeof healthResponse>;

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<'ok' | 'unreachable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, checks: HealthChecks, timeoutMs = 3_000): void {
  app.get('/health', async (_request, reply) => {
    const [database, temporal] = await Promise.all([
      probe(checks.database, timeoutMs),
      probe(checks.temporal, timeoutMs),
    ]);
    const ok = database === 'ok' && temporal === 'ok';
    const body: HealthResponse = { status: ok ? 'ok' : 'degraded', database, temporal };
    return reply.code(ok ? 200 : 503).send(body);
  });
}
