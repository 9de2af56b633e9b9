/**
 * Validation of outreach policies at the edge. A municipality's policy file (POLICY_FILE, JSON) overrides
 * any default of `workflows/policy.ts`; durations may be written as "7d", "36h", "90m", "30s", "2w" or
 * milliseconds. The validated policy is given to each case at start and recorded with it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SIGNAALPARTNERS } from '../workflows/ddas.js';
import { DEFAULT_POLICY, type OutreachPolicy } from '../workflows/policy.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration as milliseconds or a string such as "7d"; at least one second. */
export const duration = z
  .union(
    [
      z.number().int(),
      z
        .string()
        .regex(/^\d+(ms|s|m|h|d|w)$/, 'expected a duration such as "7d", "36h" or "30s"')
        .transform((v) => {
          const [, n, unit] = /^(\d+)(ms|s|m|h|d|w)$/.exec(v) ?? [];
          return Number(n) * (UNIT_MS[unit ?? 'ms'] ?? 1);
        }),
    ],
    { error: 'expected a duration such as "7d", "36h", "30s" or milliseconds' },
  )
  .pipe(
    z
      .number()
      .int()
      .min(1_000, 'expected at least one second')
      .max(10 * 366 * 86_400_000),
  );

const task = z.strictObject({
  maxAttempts: z.number().int().min(1).max(10),
  retryWaitMs: duration,
  taskDueMs: duration,
});
const rule = z.strictObject({
  enabled: z.boolean(),
  minAmount: z.number().min(0).max(1_000_000),
  minDaysInArrears: z.number().int().min(0).max(3_650),
});

/** The full policy schema (every field required). */
export const outreachPolicySchema = z.strictObject({
  letterWaitMs: duration,
  phone: task,
  visit: task,
  afterLastCardWaitMs: duration,
  crisisStart: z.enum(['phone', 'visit']),
  warmHandoverStart: z.enum(['phone', 'visit']),
  repeatWindowMs: duration,
  retention: z.strictObject({
    afterDeclineMs: duration,
    afterContactMs: duration,
    noContactMs: duration,
    notPickedUpMs: duration,
  }),
  selection: z.record(z.enum(SIGNAALPARTNERS), rule),
  recontactMaxMs: duration,
}) satisfies z.ZodType<OutreachPolicy, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = merge(base[k], v);
  return out;
}

/** Validates `overrides` merged over the defaults; throws naming each wrong field. */
export function parsePolicy(overrides: unknown, source = 'policy'): OutreachPolicy {
  const result = outreachPolicySchema.safeParse(merge(DEFAULT_POLICY, overrides ?? {}));
  if (result.success) return result.data as OutreachPolicy;
  const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid ${source}:\n${problems.join('\n')}`);
}

/**
 * Policies per municipality from a JSON file: `{ "default": {...}, "GM1911": {...} }`, each a partial
 * policy over the defaults. Without a file every municipality gets the defaults.
 */
export function loadPolicies(file: string | undefined): (municipality: string) => OutreachPolicy {
  if (!file) {
    const policy = parsePolicy({});
    return () => policy;
  }
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(raw))
    throw new Error(`Invalid policy file ${file}: expected an object of municipality codes`);
  const base = raw.default ?? {};
  const byMunicipality = new Map<string, OutreachPolicy>();
  for (const [code, value] of Object.entries(raw)) {
    if (code !== 'default')
      byMunicipality.set(code, parsePolicy(merge(base, value), `policy for ${code} in ${file}`));
  }
  const fallback = parsePolicy(base, `default policy in ${file}`);
  return (municipality) => byMunicipality.get(municipality) ?? fallback;
}
