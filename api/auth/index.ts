/**
 * Authentication of the workspace, behind one module so a municipality's OpenID Connect provider can
 * replace the password login: everything else only uses `registerAuth`, `requireUser` and `request.user`.
 *
 * Sessions live in PostgreSQL (any API process can serve any request); the cookie is a random secret,
 * Secure, HttpOnly, SameSite=Lax, and the table holds only its SHA-256. A session ends after 30 minutes
 * without a request and in any case 10 hours after sign-in; every sign-in removes the expired ones. Every
 * state-changing request of a signed-in user must carry the session's CSRF token (form field `_csrf` or
 * header `x-csrf-token`), and a cross-site or unreadable `Origin` is refused outright.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Db } from '../../db/database.js';
import {
  beginLoginAttempt,
  clearLoginFailures,
  deleteExpiredSessions,
  deleteSession,
  findActiveUserByUsername,
  findSession,
  insertSession,
  LOGIN_FAILURES_BEFORE_LOCK,
  lockLogin,
  moveSessionExpiry,
  setPasswordHash,
} from '../../db/repositories/users.js';
import { isRateLimited, perMinuteLimit, waitText } from '../security.js';
import { html, page, registerWebAssets } from '../web/layout.js';
import { hashPassword, needsRehash, verifyPassword } from './password.js';

export { hashPassword } from './password.js';

/** What a user may do: caseworker (tasks), team lead (also reassigns), manager (reports), admin (all). */
export const ROLES = ['caseworker', 'teamlead', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** The teams that hold cases. */
export const TEAMS = ['schulddienstverlening', 'wijkteam'] as const;
export type Team = (typeof TEAMS)[number];

/** Who opens the managers' pages: case histories, the monitor and the DDAS figures. */
export const MANAGER_ROLES = ['manager', 'teamlead', 'admin'] as const;

/**
 * The teams whose cases a user sees on the managers' pages: all (null) for a manager or admin, who answer
 * for the whole process; for a team lead only their own teams' cases.
 */
export function caseTeamsOf(user: Pick<SessionUser, 'roles' | 'teams'>): readonly Team[] | null {
  return user.roles.includes('manager') || user.roles.includes('admin') ? null : user.teams;
}

/**
 * Whether a user sees the resident's name on a case's history page (need to know): only who works the
 * case, a caseworker or team lead of its team. A manager or admin oversees the process, not the person.
 */
export function seesResidentName(user: Pick<SessionUser, 'roles' | 'teams'>, caseTeam: string): boolean {
  const works = user.roles.includes('caseworker') || user.roles.includes('teamlead');
  return works && (user.teams as readonly string[]).includes(caseTeam);
}

/** The signed-in user of a request. */
export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  teams: Team[];
  csrfToken: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireUser` (null before it ran or when nobody is signed in). */
    user: SessionUser | null;
  }
  interface FastifyInstance {
    vsAuth: AuthState;
  }
}

interface AuthState {
  db: Db;
  cookieName: string;
  secure: boolean;
  sessionMs: number;
  idleMs: number;
  now: () => Date;
}

export interface AuthOptions {
  db: Db;
  /** Secure cookies (default true; browsers accept them on http://localhost and 127.0.0.1 too). */
  secureCookies?: boolean;
  /** Absolute session lifetime, default 10 hours (a working day). */
  sessionHours?: number;
  /** Idle timeout: a session unused this long ends, default 30 minutes. */
  idleMinutes?: number;
  /** The clock (tests move it). */
  now?: () => Date;
  /** Sign-in posts a minute per client address (LOGIN_RATE_LIMIT), default 30. */
  loginPerMinute?: number;
}

/** Where a signed-in user goes when the login was not asked for a page of its own. */
const DEFAULT_PAGE = '/taken';
/**
 * A session's expiry moves only by at least this much, so a burst of requests costs one write: the idle
 * timeout is 30 minutes minus at most this.
 */
const EXPIRY_STEP_MS = 60_000;

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the request comes from the API (JSON answers) rather than a page (redirects, HTML). */
export function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

/** Registers cookies, form bodies, the login and logout pages (idempotent: several route groups may call it). */
export async function registerAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  if (app.hasDecorator('vsAuth')) return;
  const secure = options.secureCookies ?? true;
  app.decorate('vsAuth', {
    db: options.db,
    secure,
    cookieName: secure ? '__Host-vs_session' : 'vs_session',
    sessionMs: (options.sessionHours ?? 10) * 3_600_000,
    idleMs: (options.idleMinutes ?? 30) * 60_000,
    now: options.now ?? (() => new Date()),
  });
  app.decorateRequest('user', null);
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(fastifyFormbody);
  await registerWebAssets(app);

  // A cross-site form post never reaches a handler, signed in or not; nor one whose Origin is unreadable
  // ('null' included), as its site cannot be told.
  app.addHook('onRequest', async (request, reply) => {
    if (!UNSAFE_METHODS.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin && !originMatchesHost(origin, request.headers.host)) {
      return reply.code(403).send({ error: 'cross-site request refused' });
    }
  });

  app.get('/login', async (request, reply) => {
    const query = request.query as { next?: string; fout?: string };
    return reply
      .type('text/html; charset=utf-8')
      .send(loginPage(safeNext(query.next, originOf(request)), query.fout === '1'));
  });

  // Per address: spraying many accounts from one place. Per account (login_throttle): guessing one.
  const loginLimit = await perMinuteLimit(app, 'login', options.loginPerMinute ?? 30);
  const tooMany = (
    reply: FastifyReply,
    next: string,
    username: string,
    seconds: number,
    why: 'account' | 'address',
  ) =>
    reply
      .code(429)
      .header('retry-after', String(seconds))
      .type('text/html; charset=utf-8')
      .send(loginPage(next, false, username, { seconds, why }));
  const secondsUntil = (until: Date, now: Date) =>
    Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));

  app.post(
    '/login',
    {
      onRequest: loginLimit,
      errorHandler: (error, request, reply) => {
        if (!isRateLimited(error)) throw error;
        request.log.warn({ event: 'login_rate_limited', ip: request.ip }, 'sign-in posts over the limit');
        return tooMany(reply, DEFAULT_PAGE, '', error.retryAfterSeconds, 'address');
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const username = typeof body.username === 'string' ? body.username.trim().slice(0, 128) : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const next = safeNext(typeof body.next === 'string' ? body.next : undefined, originOf(request));
      const state = app.vsAuth;
      const now = state.now();
      // Counted before the password is checked, so attempts sent together cannot all pass (users.ts).
      const attempt = username ? await beginLoginAttempt(options.db, username, now) : null;
      if (attempt && !attempt.check) {
        // Refused without looking at the password: a locked account cannot be guessed meanwhile.
        request.log.warn(
          { event: 'login_locked', ...who(username, undefined), ip: request.ip, attempt: attempt.attempt },
          'sign-in refused: account locked',
        );
        return tooMany(reply, next, username, secondsUntil(attempt.lockedUntil, now), 'account');
      }
      const user = username ? await findActiveUserByUsername(options.db, username) : undefined;
      const ok = await verifyPassword(password, user?.password_hash);
      if (!user || !ok) {
        // Who is being tried, from where; never the password, nor a name nobody has (it may be one).
        request.log.warn(
          { event: 'login_failed', ...who(username, user), ip: request.ip, failures: attempt?.attempt ?? 0 },
          'sign-in failed',
        );
        if (attempt && attempt.attempt >= LOGIN_FAILURES_BEFORE_LOCK) {
          const until = await lockLogin(options.db, username, now, attempt.attempt);
          return tooMany(reply, next, username, secondsUntil(until, now), 'account');
        }
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(loginPage(next, true, username));
      }
      await clearLoginFailures(options.db, username, now);
      // Made with older, weaker parameters: replaced now that the password is at hand.
      if (needsRehash(user.password_hash)) {
        await setPasswordHash(options.db, user.id, await hashPassword(password));
      }
      const secret = randomBytes(32).toString('base64url');
      await deleteExpiredSessions(options.db, now);
      await insertSession(options.db, {
        idHash: sha256(secret),
        userId: user.id,
        csrfToken: randomBytes(24).toString('base64url'),
        createdAt: now,
        expiresAt: new Date(now.getTime() + Math.min(state.idleMs, state.sessionMs)),
      });
      request.log.info({ event: 'login', userId: user.id }, 'signed in');
      reply.setCookie(state.cookieName, secret, {
        path: '/',
        httpOnly: true,
        secure: state.secure,
        sameSite: 'lax',
        maxAge: Math.floor(state.sessionMs / 1000),
      });
      return reply.redirect(next, 303);
    },
  );

  app.post('/uitloggen', { preHandler: requireUser() }, async (request, reply) => {
    const secret = request.cookies[app.vsAuth.cookieName];
    if (secret) await deleteSession(options.db, sha256(secret));
    reply.clearCookie(app.vsAuth.cookieName, { path: '/', secure: app.vsAuth.secure, httpOnly: true });
    return reply.redirect('/login', 303);
  });
}

/** The origin this request was sent to, as the browser sees it (`http://host:port`). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** Whether an `Origin` header names the site of `host`; false for one that cannot be read. */
function originMatchesHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The page to go to after sign-in: `next` as a path on this site, else the default page. Resolved the way
 * a browser resolves it (`new URL` drops tabs and line breaks and reads `\` as `/`), so `/\t/example.org`
 * is seen as the other site `//example.org` it is.
 */
function safeNext(next: string | undefined, origin: string): string {
  if (!next) return DEFAULT_PAGE;
  try {
    const base = new URL(origin);
    const url = new URL(next, base);
    if (url.origin !== base.origin || !url.pathname.startsWith('/') || url.pathname.startsWith('//')) {
      return DEFAULT_PAGE;
    }
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return DEFAULT_PAGE;
  }
}

/**
 * The login name for the log: as typed when someone has it, else only a short hash (a name nobody has may
 * be a password typed in the wrong field), which still shows the same name tried again and again.
 */
function who(username: string, user: { username: string } | undefined): Record<string, string> {
  if (user) return { username: user.username };
  return { usernameHash: createHash('sha256').update(username.toLowerCase()).digest('hex').slice(0, 12) };
}

function loginPage(
  next: string,
  failed: boolean,
  username = '',
  refused?: { seconds: number; why: 'account' | 'address' },
): string {
  const wait = refused ? `Probeer het over ${waitText(refused.seconds)} opnieuw.` : '';
  const notice = refused
    ? {
        kind: 'error' as const,
        text:
          refused.why === 'account'
            ? `Te veel mislukte inlogpogingen met deze gebruikersnaam. ${wait} Wachtwoord vergeten? Vraag uw beheerder om een nieuw wachtwoord.`
            : `Te veel inlogpogingen vanaf dit adres. ${wait}`,
      }
    : failed
      ? { kind: 'error' as const, text: 'De gebruikersnaam of het wachtwoord klopt niet.' }
      : null;
  return page({
    title: 'Inloggen',
    notice,
    body: html`<form method="post" action="/login" class="utrecht-form vs-form vs-login">
  <input type="hidden" name="next" value="${next}">
  <div class="utrecht-form-field utrecht-form-field--text">
    <label class="utrecht-form-label" for="username">Gebruikersnaam</label>
    <input class="utrecht-textbox utrecht-textbox--html-input" id="username" name="username" autocomplete="username" required value="${username}"${username ? '' : html` autofocus`}>
  </div>
  <div class="utrecht-form-field utrecht-form-field--text">
    <label class="utrecht-form-label" for="password">Wachtwoord</label>
    <input class="utrecht-textbox utrecht-textbox--html-input" id="password" name="password" type="password" autocomplete="current-password" required>
  </div>
  <button type="submit" class="utrecht-button utrecht-button--primary-action">Inloggen</button>
</form>`,
  });
}

async function loadUser(request: FastifyRequest): Promise<SessionUser | null> {
  if (request.user) return request.user;
  const state = request.server.vsAuth;
  const secret = request.cookies[state.cookieName];
  if (!secret) return null;
  const idHash = sha256(secret);
  const now = state.now();
  const row = await findSession(state.db, idHash, now);
  if (!row) return null;
  // Used now: the idle timeout starts again, up to the absolute end of the session. (A session made
  // before there was an idle timeout has a later expiry, which this brings forward.)
  const expiresAt = Math.min(now.getTime() + state.idleMs, row.createdAt.getTime() + state.sessionMs);
  if (Math.abs(expiresAt - row.expiresAt.getTime()) >= EXPIRY_STEP_MS) {
    await moveSessionExpiry(state.db, idHash, new Date(expiresAt), now);
  }
  request.user = {
    id: row.userId,
    username: row.username,
    displayName: row.displayName,
    roles: row.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
    teams: row.teams.filter((t): t is Team => (TEAMS as readonly string[]).includes(t)),
    csrfToken: row.csrfToken,
  };
  return request.user;
}

function deny(request: FastifyRequest, reply: FastifyReply, code: 401 | 403, message: string) {
  if (wantsJson(request)) return reply.code(code).send({ error: message });
  if (code === 401) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .send(
      page({
        title: 'Geen toegang',
        user: request.user,
        body: html`<p class="utrecht-paragraph">${message}</p>`,
      }),
    );
}

/**
 * A preHandler that lets only a signed-in user through (with one of `roles`, when given), checks the
 * CSRF token of state-changing requests, and sets `request.user`.
 */
export function requireUser(roles?: readonly Role[]): preHandlerAsyncHookHandler {
  return async function requireUserHandler(request, reply) {
    const user = await loadUser(request);
    if (!user) return deny(request, reply, 401, 'Log eerst in.');
    if (roles && !roles.some((r) => user.roles.includes(r))) {
      return deny(request, reply, 403, 'U heeft geen toegang tot deze pagina.');
    }
    if (UNSAFE_METHODS.has(request.method)) {
      const header = request.headers['x-csrf-token'];
      const field = (request.body as Record<string, unknown> | undefined)?._csrf;
      const token = typeof header === 'string' ? header : typeof field === 'string' ? field : '';
      if (!sameToken(token, user.csrfToken)) {
        return deny(
          request,
          reply,
          403,
          'Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.',
        );
      }
    }
  };
}

/** The signed-in user of a request that passed `requireUser`. */
export function userOf(request: FastifyRequest): SessionUser {
  if (!request.user) throw new Error('requireUser() must run before this handler');
  return request.user;
}
