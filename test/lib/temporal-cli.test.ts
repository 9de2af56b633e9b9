import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalCli, temporalCacheDir } from '../../lib/temporal-cli.js';
import { devServerArgs } from '../../lib/temporal-dev-server.js';

function fakeBinary(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('finding the Temporal CLI', () => {
  const root = mkdtempSync(join(tmpdir(), 'cli-'));
  const onPath = fakeBinary(join(root, 'bin'));
  const explicit = fakeBinary(join(root, 'explicit'));
  const cacheHome = join(root, 'cache');

  it('prefers TEMPORAL_CLI, then PATH, then the cache outside the clone', () => {
    expect(findTemporalCli({ TEMPORAL_CLI: explicit, PATH: join(root, 'bin') })).toBe(explicit);
    expect(findTemporalCli({ PATH: join(root, 'bin'), XDG_CACHE_HOME: cacheHome })).toBe(onPath);
    expect(findTemporalCli({ PATH: '/nonexistent', XDG_CACHE_HOME: cacheHome })).toBeNull();
    const cached = fakeBinary(temporalCacheDir({ XDG_CACHE_HOME: cacheHome }));
    expect(cached).toContain(join('vroegsignalering', 'temporal-1.5.1'));
    expect(findTemporalCli({ PATH: '/nonexistent', XDG_CACHE_HOME: cacheHome })).toBe(cached);
  });

  it('refuses a TEMPORAL_CLI that is not executable', () => {
    expect(() => findTemporalCli({ TEMPORAL_CLI: join(root, 'missing') })).toThrow(/not an executable/);
  });

  it('registers every case search attribute and keeps SQLite in WAL mode', () => {
    const args = devServerArgs({ cli: 'temporal', port: 1, uiPort: 2, dbFile: '/tmp/t.sqlite' }).join(' ');
    expect(args).toContain('--search-attribute CaseStage=Keyword');
    expect(args).toContain('--search-attribute CasePartnerTypes=KeywordList');
    expect(args).toContain('--search-attribute CaseNextDeadline=Datetime');
    expect(args).toContain('--sqlite-pragma journal_mode=wal');
    expect(args).toContain('--db-filename /tmp/t.sqlite');
  });
});
