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

/** Whether `value` is a bare origin such as https://host:8443 (a trailing slash allowed). */
function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/** MATCHING_SECRET's development default; production refuses it (lib/production.ts). */
export const DEVELOPMENT_MATCHING_SECRET = 'development-only-matching-secret';

const envSchema = z.object({
  /** `production` refuses every development default at start (lib/production.ts); anything else is development. */
  // A misspelt `Production` must not start quietly in development mode: only these three exist.
  NODE_ENV: z.enum(['production', 'development', 'test']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` (readable lines) or `json` (one object per line); unset: pretty on a terminal, else JSON. */
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  /**
   * Where users and partners reach the API, e.g. https://vroegsignalering.gemeente.nl (no path). When set,
   * a request naming another Host is refused (api/security.ts); required in production.
   */
  PUBLIC_ORIGIN: optionalUrl(['https://', 'http://']).refine((v) => v === undefined || isOrigin(v), {
    message: 'expected an origin only: scheme, host and optional port, no path',
  }),
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  DATABASE_POOL_MAX: z.coerce.number().int().min(4).max(200).default(20),
  EMBEDDED_DB_PORT: port.default(54329),
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(/^[\w.-]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('vroegsignalering'),
  /** Signals handed over to Temporal and not yet taken up by their case, at most (all dispatchers together). */
  DISPATCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(100),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: optionalUrl(['http://', 'https://']),
  TEMPORAL_CLI: z.string().min(1).optional(),
  MUNICIPALITY_CODE: z
    .string()
    .regex(/^GM\d{4}$/, 'expected a CBS municipality code such as GM1911')
    .default('GM1911'),
  /** JSON file with outreach policies per municipality (partial, over the defaults); see lib/policy.ts. */
  POLICY_FILE: z.string().min(1).optional(),
  /** Base64 of 32 random bytes; encrypts every Temporal payload. Unset: a key file under DATA_DIR. */
  PAYLOAD_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'expected base64 of exactly 32 bytes' })
    .optional(),
  /** Key of the matching hashes (BSN / birth date + address); set a long random value in production. */
  MATCHING_SECRET: z.string().min(16, 'expected at least 16 characters').default(DEVELOPMENT_MATCHING_SECRET),
  /** Sender of letters and e-mails (defaults: Gemeente Hollands Kroon, from its vroegsignalering page). */
  MUNICIPALITY_NAME: z.string().trim().min(1).default('Gemeente Hollands Kroon'),
  MUNICIPALITY_TEAM: z.string().trim().min(1).default('Team Schulddienstverlening'),
  MUNICIPALITY_PHONE: z.string().trim().min(1).default('088-321 5000'),
  MUNICIPALITY_EMAIL: z
    .string()
    .trim()
    .email('expected an e-mail address')
    .default('schulddienstverlening@hollandskroon.nl'),
  MUNICIPALITY_OPENING_HOURS: z.string().trim().min(1).default('op werkdagen van 8.30 tot 17.00 uur'),
  MUNICIPALITY_WEBSITE: z.string().trim().min(1).default('www.hollandskroon.nl'),
  MUNICIPALITY_POSTAL_ADDRESS: z.string().trim().min(1).default('Postbus 8000, 1760 DA Anna Paulowna'),
  /** PNG or JPEG drawn at the top of letters; unset: the name as a word mark. */
  MUNICIPALITY_LOGO: z.string().min(1).optional(),
  /** Folder of the editable letter templates. */
  LETTER_TEMPLATES_DIR: z.string().min(1).default('templates/letters'),
  /** TrueType fonts embedded in letters; unset: DejaVu Sans when installed, else Helvetica. */
  LETTER_FONT: z.string().min(1).optional(),
  LETTER_FONT_BOLD: z.string().min(1).optional(),
  /** Print outbox folder (one sub-folder and manifest.csv per day); unset: <DATA_DIR>/outbox. */
  PRINT_OUTBOX_DIR: z.string().min(1).optional(),
  /** SMTP server for e-mail to residents; unset: `npm start` runs a local demo server, a lone worker sends none. */
  SMTP_URL: optionalUrl(['smtp://', 'smtps://']),
  /** From address; unset: "<MUNICIPALITY_NAME>" <MUNICIPALITY_EMAIL>. */
  MAIL_FROM: z.string().trim().min(3).optional(),
  /** Port of the local demo SMTP server started by `npm start` when SMTP_URL is unset. */
  DEMO_SMTP_PORT: port.default(2525),
  /** `true`: a delivered e-mail replaces the paper letter (a failed one still falls back to it). */
  EMAIL_REPLACES_LETTER: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Largest signal batch body (JSON or CSV) a partner may send, in bytes; larger ones get 413. */
  INTAKE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(128 * 1024 * 1024),
  /** Most rows in one signal batch; further rows are rejected unread. */
  INTAKE_MAX_ROWS: z.coerce.number().int().min(1).default(200_000),
  /** Requests a minute per client address: sign-in posts, DDAS token requests, partner API calls. */
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
  DDAS_TOKEN_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
  PARTNER_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  /**
   * Behind a reverse proxy: the proxies whose X-Forwarded-For names the client (addresses or CIDRs,
   * comma-separated, or `loopback`), so rate limits and sign-in logs see the client, not the proxy.
   */
  TRUST_PROXY: z.string().trim().min(1).optional(),
  /** Inhabitants for the monitor's rates per 1,000: a number for MUNICIPALITY_CODE, or `GM1911=49000,GM0363=...`. */
  MUNICIPALITY_INHABITANTS: z
    .string()
    .trim()
    .regex(
      /^(\d+|GM\d{4}=\d+(,\s*GM\d{4}=\d+)*)$/,
      'expected a number, or a list such as GM1911=49000,GM0363=931000',
    )
    .optional(),
  /** Where the DDAS interface for CBS is mounted (`POST <path>/gegevens`). */
  DDAS_MOUNT_PATH: z
    .string()
    .regex(/^(\/[\w.-]+)+$/, 'expected a path such as /ddas/v1')
    .default('/ddas/v1'),
  /** codeGegevensleverancier in the DDAS delivery. */
  DDAS_SUPPLIER_CODE: z.string().trim().min(1).default('vroegsignalering'),
  /** aanleverendeOrganisatie.naam; unset: "Gemeente <MUNICIPALITY_CODE>". */
  DDAS_ORGANISATION_NAME: z.string().trim().min(1).optional(),
  DDAS_ORGANISATION_KVK: z
    .string()
    .regex(/^\d{8}$/, 'expected an 8-digit KvK number')
    .optional(),
  /** Production: tokens are verified against this issuer's JWKS; unset: the demo token endpoint issues them. */
  DDAS_OAUTH_JWKS_URL: optionalUrl(['https://', 'http://']),
  DDAS_OAUTH_ISSUER: z.string().trim().min(1).optional(),
  DDAS_OAUTH_AUDIENCE: z.string().trim().min(1).optional(),
  DDAS_OAUTH_SCOPE: z.string().trim().min(1).default('read'),
  /** Client credentials accepted by the demo token endpoint. */
  DDAS_CLIENT_ID: z.string().trim().min(1).default('cbs-demo'),
  DDAS_CLIENT_SECRET: z
    .string()
    .min(16, 'expected at least 16 characters')
    .default('development-only-ddas-client-secret'),
  /** PEM files of the signing key and certificate chain (leaf first); unset: a self-signed demo pair in DATA_DIR. */
  DDAS_SIGNING_KEY_FILE: z.string().min(1).optional(),
  DDAS_SIGNING_CERT_FILE: z.string().min(1).optional(),
  DDAS_SIGNING_KID: z.string().min(1).optional(),
  /** `required`: requests without a valid nlgov-adr-payload-sig are refused; `optional`: checked when present. */
  DDAS_REQUEST_SIGNATURE: z.enum(['optional', 'required']).default('optional'),
  /** PEM bundle of certificates a signed request's x5c chain must end in; unset: any certificate. */
  DDAS_TRUSTED_CERTS_FILE: z.string().min(1).optional(),
});

/** Validated configuration of one process. */
export type Config = z.infer<typeof envSchema>;

/** Whether the process runs in production mode (`NODE_ENV=production`): HSTS, secure cookies, no demo parts. */
export function isProduction(config: Pick<Config, 'NODE_ENV'>): boolean {
  return config.NODE_ENV === 'production';
}

/** Thrown when the environment does not validate; the message names each wrong variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The variables whose wrong value a configuration error may repeat: ports, levels, sizes and codes. Any
 * other may be a secret (MATCHING_SECRET, DDAS_CLIENT_SECRET, PAYLOAD_ENCRYPTION_KEY) or carry one (a URL
 * or address with a password), and a start-up error ends up in logs.
 */
const SHOWN_WHEN_WRONG = new Set<keyof typeof envSchema.shape>([
  'NODE_ENV',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'HTTP_PORT',
  'DATABASE_POOL_MAX',
  'DISPATCH_MAX_IN_FLIGHT',
  'EMBEDDED_DB_PORT',
  'TEMPORAL_DEV_PORT',
  'TEMPORAL_UI_PORT',
  'MUNICIPALITY_CODE',
  'DEMO_SMTP_PORT',
  'EMAIL_REPLACES_LETTER',
  'INTAKE_MAX_BODY_BYTES',
  'INTAKE_MAX_ROWS',
  'LOGIN_RATE_LIMIT',
  'DDAS_TOKEN_RATE_LIMIT',
  'PARTNER_RATE_LIMIT',
  'TRUST_PROXY',
  'DDAS_MOUNT_PATH',
  'DDAS_REQUEST_SIGNATURE',
]);

/** Reads and validates the configuration; empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const shown = (SHOWN_WHEN_WRONG as ReadonlySet<string>).has(name);
    const given = shown ? ` (got ${JSON.stringify(cleaned[name])})` : '';
    return `  ${name}: ${issue.message}${given}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
