/**
 * `npm run ddas:export -- --from 2026-01-01 --to 2026-03-31 --out levering.json`: writes the same DDAS
 * payload `POST /ddas/v1/gegevens` answers (`{ gegevens, paginering? }`), checked against the official
 * schema, with its detached JAdES signature in `<out>.jws` and its Digest in `<out>.digest`. A delivery of
 * more than one page is written as `<name>-p1.json`, `<name>-p2.json`, ...
 *
 * Options: --from, --to (YYYY-MM-DD; default this year to date), --organisation (name or GM code),
 * --page-size (max 50,000), --out (default ddas-<from>-<to>.json). Uses DATABASE_URL, else the embedded
 * database of `npm start` (running or not).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDelivery, periodOf } from '../api/ddas/delivery.js';
import { ddasSigningMaterial } from '../api/ddas/routes.js';
import { uitwisselmodelValidator } from '../api/ddas/schema.js';
import { signBody } from '../api/ddas/signing.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { commandDatabaseUrl } from '../lib/embedded-postgres.js';
import { runMain } from '../lib/main.js';

await runMain('ddas-export', async ({ config, logger }) => {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      organisation: { type: 'string' },
      'page-size': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const request = {
    aanleverperiodeStartdatum: values.from,
    aanleverperiodeEinddatum: values.to,
    aanleverende_organisatie: values.organisation,
    pageSize: values['page-size'] ? Number(values['page-size']) : undefined,
  };
  if (request.pageSize !== undefined && !(Number.isInteger(request.pageSize) && request.pageSize >= 1)) {
    throw new Error('--page-size: expected a positive integer');
  }
  const { start, end } = periodOf(request, new Date());
  const out = resolve(values.out ?? `ddas-${start}-${end}.json`);

  const database = await commandDatabaseUrl(config);
  const db = createDatabase(database.url, { max: 2 });
  if (!config.DATABASE_URL) await migrateToLatest(db);
  try {
    const settings = {
      municipality: config.MUNICIPALITY_CODE,
      supplierCode: config.DDAS_SUPPLIER_CODE,
      organisationName: config.DDAS_ORGANISATION_NAME ?? `Gemeente ${config.MUNICIPALITY_CODE}`,
      organisationKvk: config.DDAS_ORGANISATION_KVK,
    };
    const validate = uitwisselmodelValidator();
    const signing = ddasSigningMaterial(config);
    let page = 1;
    let totalPages = 1;
    do {
      const delivery = await buildDelivery(
        db,
        { ...request, page: totalPages > 1 ? page : undefined },
        settings,
      );
      const { body } = delivery;
      if (!validate(JSON.parse(body.toString('utf8')).gegevens)) {
        throw new Error(
          `the delivery does not validate against the DDAS schema: ${JSON.stringify(validate.errors?.[0])}`,
        );
      }
      totalPages = delivery.paginering?.totalPages ?? 1;
      const file = totalPages > 1 ? out.replace(/(\.json)?$/, `-p${page}.json`) : out;
      const headers = await signBody(body, signing);
      writeFileSync(file, body);
      writeFileSync(`${file}.jws`, `${headers['nlgov-adr-payload-sig']}\n`);
      writeFileSync(`${file}.digest`, `${headers.Digest}\n`);
      logger.info(
        { file, page, totalPages, bytes: body.length, records: delivery.paginering?.totalRecords },
        'written',
      );
      page += 1;
    } while (page <= totalPages);
  } finally {
    await db.destroy();
    await database.stop();
  }
  return null;
});
