/**
 * Finds the Temporal CLI (which embeds the dev server) or builds it from source with Go.
 *
 * Order: $TEMPORAL_CLI, then `temporal` on PATH, then the cache outside the clone. When none is found it
 * runs `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into the cache. v1.5.1 is pinned because
 * it is the newest release that `go install` accepts: later releases carry a `replace` directive in go.mod,
 * which `go install pkg@version` refuses. No prebuilt binary is ever downloaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** The cache folder holding the built CLI, outside any clone so every checkout reuses it. */
export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vroegsignalering', `temporal-${TEMPORAL_CLI_VERSION.slice(1)}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Returns the path of a usable `temporal` binary, or null when it must be built. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new Error(`TEMPORAL_CLI points to ${env.TEMPORAL_CLI}, which is not an executable file`);
    }
    return env.TEMPORAL_CLI;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  const cached = join(temporalCacheDir(env), 'temporal');
  return isExecutable(cached) ? cached : null;
}

/**
 * Ensures the CLI exists, building it when needed. The build takes minutes on a fresh machine, so it
 * reports progress (elapsed time and the modules Go is fetching) through `report` every few seconds.
 */
export async function ensureTemporalCli(
  report: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const found = findTemporalCli(env);
  if (found) return found;

  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it. Install Go, or set TEMPORAL_CLI to a temporal binary.',
    );
  }
  const dir = temporalCacheDir(env);
  mkdirSync(dir, { recursive: true });
  report(`Temporal CLI not found: building ${MODULE} into ${dir} (one time, a few minutes)...`);
  const started = Date.now();
  let modules = 0;
  let lastLine = '';
  const child = spawn('go', ['install', MODULE], {
    env: { ...env, GOBIN: dir, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.includes('downloading')) modules += 1;
      if (line.trim()) lastLine = line.trim();
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const ticker = setInterval(() => {
    const secs = Math.round((Date.now() - started) / 1000);
    report(
      `  ...building the Temporal CLI: ${secs}s, ${modules} modules fetched${modules ? '' : ' (or cached)'}, compiling`,
    );
  }, 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(ticker);
  const binary = join(dir, 'temporal');
  if (code !== 0 || !isExecutable(binary)) {
    throw new Error(`Building the Temporal CLI failed (exit ${code}): ${lastLine}`);
  }
  report(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s: ${binary}`);
  return binary;
}
