/**
 * Partner bearer tokens. A token is shown once, when created; only its SHA-256 is stored. Tokens carry
 * 256 random bits, so a fast hash suffices (no password stretching needed) and lookup is one index hit.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../database.js';

/** Prefix that makes a leaked token recognisable to secret scanners. */
export const TOKEN_PREFIX = 'vsp_';

/** The stored form of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new random token (not yet stored). */
export function newToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The partner a token belongs to, as requests see it. */
export interface AuthenticatedPartner {
  partnerId: string;
  name: string;
  partnerType: string;
  tokenId: string;
}

/** Creates a token for a partner; returns it in clear text (the only time it exists so). */
export async function createPartnerToken(
  db: Db,
  partnerId: string,
  label: string,
  token: string = newToken(),
): Promise<{ tokenId: string; token: string }> {
  const row = await db
    .insertInto('partner_tokens')
    .values({ partner_id: partnerId, token_hash: hashToken(token), label })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { tokenId: row.id, token };
}

/**
 * The demo token `npm start` prints: derived from the matching secret, so it is the same at every start
 * (idempotent seeding) while the database still holds only its hash.
 */
export function demoToken(secret: string): string {
  return `${TOKEN_PREFIX}demo_${createHmac('sha256', secret).update('demo-partner-token').digest('base64url')}`;
}

/** Stores `token` for the partner unless it is already there (demo seeding). */
export async function ensurePartnerToken(
  db: Db,
  partnerId: string,
  label: string,
  token: string,
): Promise<void> {
  await db
    .insertInto('partner_tokens')
    .values({ partner_id: partnerId, token_hash: hashToken(token), label })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .execute();
}

/** Revokes a token by id; returns false when there was no active token with that id. */
export async function revokePartnerToken(db: Db, tokenId: string): Promise<boolean> {
  const result = await db
    .updateTable('partner_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The partner of an active token, or null. */
export async function findPartnerByToken(db: Db, token: string): Promise<AuthenticatedPartner | null> {
  const row = await db
    .selectFrom('partner_tokens')
    .innerJoin('partners', 'partners.id', 'partner_tokens.partner_id')
    .select([
      'partner_tokens.id as tokenId',
      'partners.id as partnerId',
      'partners.name',
      'partners.partner_type',
    ])
    .where('partner_tokens.token_hash', '=', hashToken(token))
    .where('partner_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  return row
    ? { partnerId: row.partnerId, name: row.name, partnerType: row.partner_type, tokenId: row.tokenId }
    : null;
}

/** Every token of every partner (never the token itself), for the admin command. */
export async function listPartnerTokens(db: Db) {
  return db
    .selectFrom('partner_tokens')
    .innerJoin('partners', 'partners.id', 'partner_tokens.partner_id')
    .select([
      'partner_tokens.id',
      'partners.name as partner',
      'partners.partner_type as partnerType',
      'partner_tokens.label',
      'partner_tokens.created_at as createdAt',
      'partner_tokens.revoked_at as revokedAt',
    ])
    .orderBy('partner_tokens.created_at')
    .execute();
}
