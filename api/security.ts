/**
 * What every answer carries, whichever route group made it: security headers (@fastify/helmet) with a
 * Content-Security-Policy the pages pass (scripts only from /assets, no inline script), `no-store` on
 * everything but the static assets (answers carry residents' names, BSNs and amounts, and a shared
 * computer's browser cache must not keep them), and, with PUBLIC_ORIGIN set, a Host check so that a
 * request for another name (DNS rebinding, a poisoned proxy) is refused before any route runs.
 * Also the rate limits (@fastify/rate-limit) that the sign-in, DDAS token and partner routes put in front
 * of themselves, per client address.
 */
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import ipaddr from 'ipaddr.js';
import { type Config, isProduction } from '../lib/config.js';

/** Paths whose answers hold no personal data and may be cached: stylesheets, scripts, Swagger UI's files. */
const CACHEABLE = /^\/(assets|docs\/static)\//;
/** Load balancers probe with their own Host (often an IP address): health answers hold no data. */
const ANY_HOST = /^\/health(\/|$|\?)/;

/** The policy for pages: own scripts only; inline style attributes (Mermaid's SVG, e-mail previews). */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-src': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  const production = isProduction(config);
  // Routes opt in with perMinuteLimit(); nothing else is limited.
  await app.register(rateLimit, { global: false });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...CONTENT_SECURITY_POLICY,
        // Behind TLS every link stays on https; on a developer's http://127.0.0.1 it would break the pages.
        ...(production ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // The same-origin pages need nothing cross-origin; cross-origin isolation would only stop the demo's iframes.
    crossOriginEmbedderPolicy: false,
    // Nothing (no path, no query) leaves for another site; same-origin form posts keep their Origin header,
    // which 'no-referrer' would turn into 'null' and the CSRF check (api/auth) would refuse.
    referrerPolicy: { policy: 'same-origin' },
    // HSTS only where the site is served over https: a development browser must still reach http://127.0.0.1.
    strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    frameguard: { action: 'deny' },
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!CACHEABLE.test(request.url)) reply.header('cache-control', 'no-store');
    return payload;
  });

  if (config.PUBLIC_ORIGIN) {
    const expected = new URL(config.PUBLIC_ORIGIN).host;
    app.addHook('onRequest', async (request, reply) => {
      if (ANY_HOST.test(request.url)) return;
      if (request.headers.host?.toLowerCase() !== expected) {
        return reply.code(421).send({ error: 'Misdirected Request', message: 'unknown host' });
      }
    });
  }
}

/** The answer of a rate limit, thrown to the route's error handler (JSON, or the sign-in page's own). */
export interface RateLimited {
  statusCode: 429;
  error: 'Too Many Requests';
  message: string;
  retryAfterSeconds: number;
}

export function isRateLimited(error: unknown): error is RateLimited {
  return (
    (error as RateLimited | null)?.statusCode === 429 &&
    typeof (error as RateLimited).retryAfterSeconds === 'number'
  );
}

/**
 * An onRequest hook that lets `perMinute` requests a minute through per client address (`bucket` keeps the
 * routes' counts apart) and answers 429 with Retry-After beyond. The address is the peer's, or behind a
 * proxy named in TRUST_PROXY the client's it reports.
 */
export async function perMinuteLimit(
  app: FastifyInstance,
  bucket: string,
  perMinute: number,
): Promise<onRequestAsyncHookHandler> {
  if (!app.hasDecorator('rateLimit')) await app.register(rateLimit, { global: false });
  return app.rateLimit({
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `${bucket}:${addressKey(request.ip)}`,
    errorResponseBuilder: (_request, context): RateLimited => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return {
        statusCode: 429,
        error: 'Too Many Requests',
        message: `te veel verzoeken vanaf dit adres; probeer het over ${waitText(seconds)} opnieuw`,
        retryAfterSeconds: seconds,
      };
    },
  }) as onRequestAsyncHookHandler;
}

/** "1 seconde", "40 seconden", "1 minuut", "4 minuten": when a refused request may be tried again. */
export function waitText(seconds: number): string {
  if (seconds < 90) return seconds === 1 ? '1 seconde' : `${seconds} seconden`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minuut' : `${minutes} minuten`;
}

/**
 * The part of a client address a limit counts by: an IPv4 address whole (also when written IPv4-mapped),
 * an IPv6 address by its /64, which one household or server holds entirely (2^64 addresses to rotate).
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip); // an IPv4-mapped IPv6 address becomes the IPv4 address
  if (address.kind() === 'ipv4') return address.toString();
  return `${(address as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
