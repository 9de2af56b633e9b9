/**
 * `npm run admin -- <command>`: manages partner organisations and their bearer tokens, the workspace's
 * users (bin/admin-users.ts: user:add|password|disable|enable|signout|list), the print day and the
 * objection register.
 *   partner:add <name> <partnerType>      adds a partner organisation (DDAS EnumSignaalpartner type)
 *   token:create <partner name or id> [label]   prints a new token once; only its hash is stored
 *   token:revoke <token id>               revokes a token at once
 *   token:list                            lists tokens (ids, partners, labels; never the tokens)
 *   print:collect <YYYY-MM-DD>            the print service took that day's batch: mark its letters sent
 *   objection:register <file.csv> [partner|visit]   puts the residents of a list on the objection register
 *   objection:withdraw <file.csv>         takes them off it (the residents withdrew their objection)
 *   objection:count                       register entries per source
 *   (objection commands: `--municipality GM....`, default MUNICIPALITY_CODE; the CSV has a header row with
 *   bsn, surnamePrefix, surname, birthDate, postcode, houseNumber, houseNumberAddition, `;` or `,`.
 *   Output is counts and row/field/reason only, never a value from the list.)
 * Uses DATABASE_URL, or else the embedded PostgreSQL under DATA_DIR (of a running `npm start`, or started for
 * the command).
 */

import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { outboxFromConfig } from '../activities/letters/index.js';
import { collectPrintDay } from '../activities/letters/print-outbox.js';
import { validateObjection } from '../api/routes/partners/objections.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { ensurePartner } from '../db/repositories/intake.js';
import {
  addObjection,
  countObjections,
  type ObjectionIdentity,
  withdrawObjection,
} from '../db/repositories/objections.js';
import {
  createPartnerToken,
  listPartnerTokens,
  revokePartnerToken,
} from '../db/repositories/partner-tokens.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { commandDatabaseUrl } from '../lib/embedded-postgres.js';
import { SIGNAALPARTNERS } from '../workflows/ddas.js';
import { runUserCommand, USER_USAGE, UsageError } from './admin-users.js';

const OBJECTION_COLUMNS = [
  'bsn',
  'surnamePrefix',
  'surname',
  'birthDate',
  'postcode',
  'houseNumber',
  'houseNumberAddition',
] as const;

const USAGE = `usage: npm run admin -- partner:add <name> <partnerType>
       npm run admin -- token:create <partner name or id> [label]
       npm run admin -- token:revoke <token id>
       npm run admin -- token:list
       npm run admin -- print:collect <YYYY-MM-DD>
       npm run admin -- objection:register <file.csv> [partner|visit] [--municipality GM....]
       npm run admin -- objection:withdraw <file.csv> [--municipality GM....]
       npm run admin -- objection:count [--municipality GM....]
${USER_USAGE}
objection lists: CSV (UTF-8, header row, ; or ,) with ${OBJECTION_COLUMNS.join(', ')}
partner types: ${SIGNAALPARTNERS.join(', ')}`;

/** Reads a list of residents (e.g. typed in from paper); each row validated as the partner API does. */
function readObjectionList(file: string): {
  identities: ObjectionIdentity[];
  problems: string[];
} {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const header = text.split('\n', 1)[0] ?? '';
  const delimiter = header.split(';').length >= header.split(',').length ? ';' : ',';
  let parsed: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    parsed = parse(text, { columns: true, delimiter, skip_empty_lines: true, trim: true, info: true });
  } catch (err) {
    // csv-parse's messages quote the offending value (a name, a BSN): only its code and line go out.
    if (err instanceof CsvError) fail(`line ${err.lines}: the list cannot be read (${err.code})`);
    throw err;
  }
  const records = parsed.map((p) => p.record);
  const unknown = Object.keys(records[0] ?? {}).filter(
    (c) => !(OBJECTION_COLUMNS as readonly string[]).includes(c),
  );
  if (unknown.length > 0)
    fail(`unknown columns: ${unknown.join(', ')}; expected ${OBJECTION_COLUMNS.join(', ')}`);
  const identities: ObjectionIdentity[] = [];
  const problems: string[] = [];
  records.forEach((cells, i) => {
    const v = (k: string) => (cells[k] ? cells[k] : undefined);
    const hasAddress = v('postcode') || v('houseNumber') || v('houseNumberAddition');
    const houseNumber = v('houseNumber');
    const input = {
      resident: {
        bsn: v('bsn'),
        surnamePrefix: v('surnamePrefix'),
        surname: v('surname'),
        birthDate: v('birthDate'),
      },
      address: hasAddress
        ? {
            postcode: v('postcode'),
            houseNumber: houseNumber && /^\d+$/.test(houseNumber) ? Number(houseNumber) : houseNumber,
            houseNumberAddition: v('houseNumberAddition'),
          }
        : undefined,
    };
    // Line numbers as in the file (the header is line 1, empty lines count): where the record ends.
    const validated = validateObjection(input, parsed[i]!.info.lines);
    if (validated.ok) identities.push(validated.identity);
    else for (const p of validated.problems) problems.push(`line ${p.row}, ${p.field}: ${p.reason}`);
  });
  return { identities, problems };
}

/** `--municipality GM....` among the arguments (removed from them), else the configured one. */
function municipalityOption(args: string[], fallback: string): string {
  const at = args.indexOf('--municipality');
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  if (!value || !/^GM\d{4}$/.test(value)) fail('--municipality expects a CBS code such as GM1911');
  return value;
}

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
  const database = await commandDatabaseUrl(config).catch((err: unknown) => fail((err as Error).message));
  const db = createDatabase(database.url, { max: 1 });
  try {
    await migrateToLatest(db).catch((err: unknown) => {
      fail(`cannot reach the database: ${(err as Error).message}`);
    });
    if (command.startsWith('user:')) {
      const lines = await runUserCommand(db, command, args).catch((err: unknown) => {
        if (err instanceof UsageError) fail(err.message);
        throw err;
      });
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
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
      case 'objection:register':
      case 'objection:withdraw': {
        const municipality = municipalityOption(args, config.MUNICIPALITY_CODE);
        const [file, source = 'partner'] = args;
        if (!file || (source !== 'partner' && source !== 'visit')) fail(USAGE);
        const { identities, problems } = readObjectionList(file);
        const options = { municipality, secret: config.MATCHING_SECRET };
        if (command === 'objection:register') {
          // Each entry commits with a notice to the resident's case, if any: a worker's dispatcher ends
          // outreach already running for them (also later, when Temporal is down now).
          let known = 0;
          for (const identity of identities) {
            if ((await addObjection(db, { ...options, source }, identity)) > 0) known += 1;
          }
          process.stdout.write(
            `${municipality}: ${identities.length} residents on the objection register, ` +
              `${known} of them known from signals (outreach running for them stops)\n`,
          );
        } else {
          let found = 0;
          for (const identity of identities)
            if ((await withdrawObjection(db, options, identity)) > 0) found += 1;
          process.stdout.write(
            `${municipality}: ${found} residents taken off the objection register, ` +
              `${identities.length - found} were not on it\n`,
          );
        }
        if (problems.length > 0) {
          process.stdout.write(
            `${problems.length} problems (those rows were skipped):\n  ${problems.join('\n  ')}\n`,
          );
          process.exitCode = 1;
        }
        break;
      }
      case 'objection:count': {
        const municipality = municipalityOption(args, config.MUNICIPALITY_CODE);
        const { total, bySource } = await countObjections(db, municipality);
        const parts = Object.entries(bySource).map(([source, n]) => `${source} ${n}`);
        process.stdout.write(
          `${municipality}: ${total} register entries${parts.length ? ` (${parts.join(', ')})` : ''}\n`,
        );
        break;
      }
      default:
        fail(USAGE);
    }
  } finally {
    await db.destroy();
    await database.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`admin failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
