/** The inbox query string, shared by the JSON API and the pages. */
import { z } from 'zod';
import type { InboxFilter, InboxScope } from '../../../db/repositories/tasks.js';

const flag = z
  .enum(['true', 'false', 'ja', 'nee', '1', '0', 'on'])
  .transform((v) => ['true', 'ja', '1', 'on'].includes(v));
const optionalText = z
  .string()
  .trim()
  .max(40)
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const inboxQuery = z.object({
  scope: z.enum(['mine', 'team']).default('team'),
  kind: z
    .enum(['phone', 'visit', ''])
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
  area: z
    .string()
    .trim()
    .regex(/^(\d{4})?$/, 'verwacht vier cijfers van een postcode')
    .transform((v) => (v === '' ? undefined : v))
    .optional(),
  partnerType: optionalText,
  crisis: z.union([flag, z.literal('').transform(() => undefined)]).optional(),
  unassigned: flag.optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});

export interface ParsedInboxQuery {
  scope: InboxScope;
  filter: InboxFilter;
  page: number;
  pageSize: number;
}

/** Splits a parsed query into scope, filter and paging. */
export function toInboxQuery(q: z.infer<typeof inboxQuery>): ParsedInboxQuery {
  return {
    scope: q.scope,
    filter: {
      kind: q.kind,
      area: q.area,
      partnerType: q.partnerType,
      crisis: q.crisis,
      unassigned: q.unassigned,
    },
    page: q.page,
    pageSize: q.pageSize,
  };
}
