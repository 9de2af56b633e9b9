/**
 * `npm run admin -- <command>`: manages partner organisations and their bearer tokens.
 *   partner:add <name> <partnerType>      adds a partner organisation (DDAS EnumSignaalpartner type)
 *   token:create <partner name or id> [label]   prints a new token once; only its hash is stored
 *   token:revoke <token id>               revokes a token at once
 *   token:list                            lists tokens (ids, partners, labels; never the tokens)
 *   print:collect <YYYY-MM-DD>            the print service took that day's batch: mark its letters sent
 * Uses DATABASE_URL, or else the embedded PostgreSQL of a running `npm start` (EMBEDDED_DB_PORT).
 */

import { outboxFromConfig } from '../activities/letters/index.js';
import { collectPrintDay } from '../activities/letters/print-outbox.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensurePartner } from '../db/repositories/intake.js';
import {
  createPartnerToken,
  listPartnerTokens,
  revokePartnerToken,
} from '../db/repositories/partner-tokens.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { SIGNAALPARTNERS } from '../workflows/ddas.js';

const USAGE = `usage: npm run admin -- partner:add <name> <partnerType>
       npm run admin -- token:create <partner name or id> [label]
       npm run admin -- token:revoke <token id>
       npm run admin -- token:list
       npm run admin -- print:collect <YYYY-MM-DD>
partner types: ${SIGNAALPARTNERS.join(', ')}`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const [command, ...args] = process.argv.slice(2);
  if (!command || command === 'help' || command === '--help') fail(USAGE);
  const url = config.DATABASE_URL ?? `postgres://postgres@127.0.0.1:${config.EMBEDDED_DB_PORT}/postgres`;
  const db = createDatabase(url, { max: 1 });
  try {
    await migrateToLatest(db).catch((err: unknown) => {
      fail(
        config.DATABASE_URL
          ? `cannot reach DATABASE_URL: ${(err as Error).message}`
          : `no database: set DATABASE_URL, or run \`npm start\` (embedded PostgreSQL on port ${config.EMBEDDED_DB_PORT}) first`,
      );
    });
    switch (command) {
      case 'partner:add': {
        const [name, type] = args;
        if (!name || !type) fail(USAGE);
        if (!(SIGNAALPARTNERS as readonly string[]).includes(type)) {
          fail(`unknown partner type "${type}"; expected one of: ${SIGNAALPARTNERS.join(', ')}`);
        }
        const id = await ensurePartner(db, name, type);
        process.stdout.write(`partner ${id}  ${name} (${type})\n`);
        break;
      }
      case 'token:create': {
        const [who, label = 'token'] = args;
        if (!who) fail(USAGE);
        const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(who);
        const partner = await db
          .selectFrom('partners')
          .select(['id', 'name', 'partner_type'])
          .where(isUuid ? 'id' : 'name', '=', who)
          .executeTakeFirst();
        if (!partner) fail(`no partner "${who}"; add it with partner:add`);
        const { tokenId, token } = await createPartnerToken(db, partner.id, label);
        process.stdout.write(
          `token id ${tokenId} for ${partner.name} (${partner.partner_type})\n${token}\n` +
            'Store it now: it is not shown again (only its hash is kept).\n',
        );
        break;
      }
      case 'token:revoke': {
        const [id] = args;
        if (!id || !/^[0-9a-f-]{36}$/i.test(id)) fail(USAGE);
        const done = await revokePartnerToken(db, id);
        if (!done) fail(`no active token with id ${id}`);
        process.stdout.write(`token ${id} revoked\n`);
        break;
      }
      case 'token:list': {
        for (const t of await listPartnerTokens(db)) {
          const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active';
          process.stdout.write(`${t.id}  ${t.partner} (${t.partnerType})  ${t.label}  ${state}\n`);
        }
        break;
      }
      case 'print:collect': {
        const [day] = args;
        if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) fail(USAGE);
        const sent = await collectPrintDay(db, outboxFromConfig(config), day);
        process.stdout.write(`${day}: ${sent} letters marked sent, the day's print folder is cleared\n`);
        break;
      }
      default:
        fail(USAGE);
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`admin failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
