/**
 * The monitor for managers: `GET /api/v1/monitor?from=&to=&partnerType=` returns the figures as JSON, and
 * `GET /api/v1/monitor/<table>.csv` (same query) each table as a CSV download. Signed-in managers, team
 * leads and admins only (the `preHandler` option replaces that check, e.g. in tests).
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../../db/database.js';
import type { Config } from '../../../lib/config.js';
import { SIGNAALPARTNERS } from '../../../workflows/ddas.js';
import { MANAGER_ROLES, registerAuth, requireUser } from '../../auth/index.js';
import { MONITOR_TABLES, monitorFigures, tableOf, toCsv } from './monitor-figures.js';

export interface MonitorRouteDependencies {
  db: Db;
  municipality: string;
  config?: Config | undefined;
  /** Replaces the default access check (signed in as manager, team lead or admin). */
  monitorPreHandler?: preHandlerAsyncHookHandler;
}

// PostgreSQL refuses year 0, which Date takes; a monitor period outside these years is a typo.
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'verwacht een datum JJJJ-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v),
    'is geen bestaande datum',
  )
  .refine((v) => v >= '2000-01-01' && v <= '9999-12-31', 'moet tussen de jaren 2000 en 9999 liggen');

const monitorQuery = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    partnerType: z.enum(SIGNAALPARTNERS).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    message: 'from mag niet na to liggen',
    path: ['from'],
  });

/** Inhabitants of `municipality` from MUNICIPALITY_INHABITANTS (a bare number is the installation's own). */
export function inhabitantsOf(setting: string | undefined, municipality: string, own: string): number | null {
  if (!setting) return null;
  if (/^\d+$/.test(setting)) return municipality === own && Number(setting) > 0 ? Number(setting) : null;
  for (const pair of setting.split(',')) {
    const [code, value] = pair.trim().split('=');
    if (code === municipality && Number(value) > 0) return Number(value);
  }
  return null;
}

function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' }).format(new Date());
}

/** Registers the monitor's JSON and CSV routes. */
export async function registerMonitorRoutes(
  app: FastifyInstance,
  deps: MonitorRouteDependencies,
): Promise<void> {
  let guard = deps.monitorPreHandler;
  if (!guard) {
    await registerAuth(app, { db: deps.db, loginPerMinute: deps.config?.LOGIN_RATE_LIMIT });
    guard = requireUser(MANAGER_ROLES);
  }
  const inhabitants = inhabitantsOf(
    deps.config?.MUNICIPALITY_INHABITANTS,
    deps.municipality,
    deps.municipality,
  );

  const figuresFor = async (query: unknown) => {
    const parsed = monitorQuery.safeParse(query ?? {});
    if (!parsed.success) return { error: parsed.error.issues[0] } as const;
    const to = parsed.data.to ?? today();
    const from = parsed.data.from ?? `${to.slice(0, 4)}-01-01`;
    if (from > to) return { error: { path: ['from'], message: 'from mag niet na to liggen' } } as const;
    const figures = await monitorFigures(
      deps.db,
      { municipality: deps.municipality, from, to, partnerType: parsed.data.partnerType },
      inhabitants,
    );
    return { figures } as const;
  };

  app.get('/api/v1/monitor', { preHandler: guard }, async (request, reply) => {
    const result = await figuresFor(request.query);
    if ('error' in result) {
      return reply.code(400).send({ error: `${result.error?.path.join('.')}: ${result.error?.message}` });
    }
    return result.figures;
  });

  app.get<{ Params: { table: string } }>(
    '/api/v1/monitor/:table.csv',
    { preHandler: guard },
    async (request, reply) => {
      const table = MONITOR_TABLES.find((t) => t === request.params.table);
      if (!table) {
        return reply.code(404).send({ error: `unknown table; one of ${MONITOR_TABLES.join(', ')}` });
      }
      const result = await figuresFor(request.query);
      if ('error' in result) {
        return reply.code(400).send({ error: `${result.error?.path.join('.')}: ${result.error?.message}` });
      }
      const { period, partnerType } = result.figures;
      const name =
        `monitor-${table}-${period.from}-${period.to}${partnerType ? `-${partnerType}` : ''}`.replace(
          /[^\w.-]+/g,
          '_',
        );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.csv"`)
        .send(`\ufeff${toCsv(tableOf(result.figures, table))}`);
    },
  );
}
