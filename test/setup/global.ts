/**
 * Test-run setup shared by every test file: a real Temporal dev server (in memory, free ports, the
 * project's search attributes), a fresh PostgreSQL database (dropped afterwards) on the embedded PostgreSQL
 * server started here in a temporary folder, or on TEST_DATABASE_ADMIN_URL's server when that is set, and
 * the workflow code bundled once.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../lib/embedded-postgres.js';
import { FAILURE_CONVERTER_PATH } from '../../lib/payload-codec.js';
import { ensureTemporalCli } from '../../lib/temporal-cli.js';
import { type DevServer, startDevServer } from '../../lib/temporal-dev-server.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { freePort } from '../helpers/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    adminDatabaseUrl: string;
    workflowBundlePath: string;
    temporalCli: string;
  }
}

/** Starts the embedded server for this run, in a folder the server's user (postgres, as root) can reach. */
async function embeddedServer(): Promise<{ server: EmbeddedPostgres; folder: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'vroeg-test-pg-'));
  chmodSync(folder, 0o755);
  // Every test file runs in a fork of its own with a few pools; room for all of them at once.
  const server = await startEmbeddedPostgres({
    dataDir: join(folder, 'postgres'),
    port: await freePort(),
    maxConnections: 400,
  });
  return { server, folder };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = await ensureTemporalCli((line) => process.stderr.write(`${line}\n`));
  const embedded = process.env.TEST_DATABASE_ADMIN_URL ? null : await embeddedServer();
  const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_ADMIN_URL ?? embedded?.server.adminUrl ?? '';
  const [port, uiPort] = [await freePort(), await freePort()];
  const dbName = `vroeg_test_${process.pid}_${Date.now()}`;
  const admin = createDatabase(ADMIN_DATABASE_URL, { max: 1 });
  await sql`create database ${sql.id(dbName)}`.execute(admin);
  const databaseUrl = ADMIN_DATABASE_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const db = createDatabase(databaseUrl, { max: 1 });
  await migrateToLatest(db);
  await db.destroy();

  let server: DevServer | undefined;
  try {
    server = await startDevServer({ cli, port, uiPort });
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      // As the worker bundles it (lib/payload-codec.ts): failure messages and stacks encoded.
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: quietLogger,
    });
    mkdirSync('test-artifacts', { recursive: true });
    const workflowBundlePath = join(process.cwd(), 'test-artifacts', 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, code);

    project.provide('temporalAddress', server.address);
    project.provide('databaseUrl', databaseUrl);
    project.provide('adminDatabaseUrl', ADMIN_DATABASE_URL);
    project.provide('workflowBundlePath', workflowBundlePath);
    project.provide('temporalCli', cli);
  } catch (err) {
    await server?.stop();
    await admin.destroy();
    await embedded?.server.stop();
    throw err;
  }

  return async () => {
    await server?.stop();
    await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
    await admin.destroy();
    if (embedded) {
      await embedded.server.stop();
      rmSync(embedded.folder, { recursive: true, force: true });
    }
  };
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    process.stderr.write(`bundler: ${message}\n`);
  },
  error(message: string) {
    process.stderr.write(`bundler: ${message}\n`);
  },
};
