/**
 * Test-run setup shared by every test file: a real Temporal dev server (in memory, free ports, the
 * project's search attributes), a fresh PostgreSQL database on the local server (dropped afterwards), and
 * the workflow code bundled once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
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

/** The PostgreSQL server tests create their databases on (trust auth on the CI machine). */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = await ensureTemporalCli((line) => process.stderr.write(`${line}\n`));
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
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
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
    throw err;
  }

  return async () => {
    await server?.stop();
    await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin);
    await admin.destroy();
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
