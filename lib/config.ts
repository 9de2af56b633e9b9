/**
 * Process configuration from environment variables, validated once at start.
 * Every variable is listed in `.env.example`; a wrong value stops the process with a message naming it.
 */
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((v) => protocols.some((p) => v.startsWith(p)), {
      message: `expected a URL starting with ${protocols.join(' or ')}`,
    })
    .optional();

const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  EMBEDDED_DB_PORT: port.default(54329),
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(/^[\w.-]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('vroegsignalering'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: optionalUrl(['http://', 'https://']),
  TEMPORAL_CLI: z.string().min(1).optional(),
  MUNICIPALITY_CODE: z
    .string()
    .regex(/^GM\d{4}$/, 'expected a CBS municipality code such as GM1911')
    .default('GM1911'),
  /** Key of the matching hashes (BSN / birth date + address); set a long random value in production. */
  MATCHING_SECRET: z
    .string()
    .min(16, 'expected at least 16 characters')
    .default('development-only-matching-secret'),
});

/** Validated configuration of one process. */
export type Config = z.infer<typeof envSchema>;

/** Thrown when the environment does not validate; the message names each wrong variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    // Show what was given, except for the database URL which may carry a password.
    const given = name === 'DATABASE_URL' ? '' : ` (got ${JSON.stringify(cleaned[name])})`;
    return `  ${name}: ${issue.message}${given}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
