/**
 * OAuth 2.0 client-credentials bearer tokens for the DDAS interface. Production verifies tokens of the
 * configured authorisation server (issuer + JWKS). Without one, a demo token endpoint of our own issues
 * short-lived HS256 tokens for the configured client; its key is derived from the client secret, so every
 * API process accepts the tokens any of them issued.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

export const DEMO_ISSUER = 'vroegsignalering-demo';
const DEMO_TTL_SECONDS = 3600;

export interface TokenSettings {
  scope: string;
  audience?: string | undefined;
  /** Production: the authorisation server's JWKS and issuer. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  /** Demo: the one client the own token endpoint knows. */
  clientId: string;
  clientSecret: string;
}

/** Why a request's token was refused, as FSC error codes. */
export type TokenFailure =
  | 'ERROR_CODE_ACCESS_TOKEN_MISSING'
  | 'ERROR_CODE_ACCESS_TOKEN_INVALID'
  | 'ERROR_CODE_ACCESS_TOKEN_EXPIRED'
  | 'ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN';

export interface TokenVerifier {
  /** Checks an `Authorization` header value; resolves to the token's claims or the FSC failure. */
  verify(
    authorization: string | undefined,
  ): Promise<{ ok: true; claims: JWTPayload } | { ok: false; code: TokenFailure }>;
  /** Issues a token for the demo client, or null when the credentials are wrong or demo issuing is off. */
  issue(clientId: string, clientSecret: string): Promise<{ token: string; expiresIn: number } | null>;
  /** Whether this installation issues tokens itself. */
  readonly issuesTokens: boolean;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHmac('sha256', 'compare').update(a).digest();
  const y = createHmac('sha256', 'compare').update(b).digest();
  return timingSafeEqual(x, y);
}

function scopesOf(claims: JWTPayload): string[] {
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === 'string') return scope.split(' ');
  if (Array.isArray(scope)) return scope.map(String);
  return [];
}

/** Builds the verifier (and demo issuer) from the settings. */
export function createTokenVerifier(settings: TokenSettings): TokenVerifier {
  const demo = !settings.jwksUrl;
  const demoKey = createHmac('sha256', settings.clientSecret).update('ddas-demo-token-key').digest();
  const jwks = settings.jwksUrl ? createRemoteJWKSet(new URL(settings.jwksUrl)) : null;
  const audience = settings.audience ?? (demo ? 'ddas' : undefined);

  return {
    issuesTokens: demo,
    async issue(clientId, clientSecret) {
      if (!demo) return null;
      if (!sameSecret(clientId, settings.clientId) || !sameSecret(clientSecret, settings.clientSecret)) {
        return null;
      }
      const token = await new SignJWT({ scope: settings.scope, client_id: clientId })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer(DEMO_ISSUER)
        .setSubject(clientId)
        .setAudience(audience ?? 'ddas')
        .setIssuedAt()
        .setExpirationTime(`${DEMO_TTL_SECONDS}s`)
        .sign(demoKey);
      return { token, expiresIn: DEMO_TTL_SECONDS };
    },
    async verify(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match) return { ok: false, code: 'ERROR_CODE_ACCESS_TOKEN_MISSING' };
      const token = match[1]!;
      let claims: JWTPayload;
      try {
        const options = {
          ...(audience ? { audience } : {}),
          ...(demo ? { issuer: DEMO_ISSUER } : settings.issuer ? { issuer: settings.issuer } : {}),
        };
        const result = jwks
          ? await jwtVerify(token, jwks, options)
          : await jwtVerify(token, demoKey, { ...options, algorithms: ['HS256'] });
        claims = result.payload;
      } catch (err) {
        if (err instanceof errors.JWTExpired) return { ok: false, code: 'ERROR_CODE_ACCESS_TOKEN_EXPIRED' };
        return { ok: false, code: 'ERROR_CODE_ACCESS_TOKEN_INVALID' };
      }
      if (!scopesOf(claims).includes(settings.scope)) {
        return { ok: false, code: 'ERROR_CODE_WRONG_GROUP_ID_IN_TOKEN' };
      }
      return { ok: true, claims };
    },
  };
}
