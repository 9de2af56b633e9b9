/**
 * `npm run admin -- objection:register` with a list typed in by hand: a row the CSV reader cannot read stops
 * the command with its line and a code, never the value (csv-parse's own message quotes it); line numbers of
 * refused rows are the file's, empty lines and fields spanning lines included.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

const HEADER = 'bsn;surnamePrefix;surname;birthDate;postcode;houseNumber;houseNumberAddition';

async function register(content: string): Promise<{ out: string; code: number }> {
  const file = join(mkdtempSync(join(tmpdir(), 'admin-list-')), 'lijst.csv');
  writeFileSync(file, content);
  return promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bin/admin.ts', 'objection:register', file, '--municipality', 'GM0003'],
    { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' } },
  )
    .then(({ stdout, stderr }) => ({ out: stdout + stderr, code: 0 }))
    .catch((err: { stdout: string; stderr: string; code: number }) => ({
      out: err.stdout + err.stderr,
      code: err.code,
    }));
}

describe('npm run admin -- objection:register <list>', () => {
  it('stops at a row it cannot read, naming the line and a code but not the value', async () => {
    const { out, code } = await register(
      `${HEADER}\n;;Vandenberg;1970-01-01;1761 AB;4;\n;;Jan "Geheimnaam;1970-01-01;1761 AB;5;\n`,
    );
    expect(code).toBe(2);
    expect(out).toMatch(/line 3: the list cannot be read \([A-Z_]+\)/);
    expect(out).not.toContain('Geheimnaam');
    expect(out).not.toContain('Vandenberg');
  });

  it('names refused rows by their line in the file, counting empty lines and fields over two lines', async () => {
    const { out, code } = await register(
      `${HEADER}\n\n;;"Dubbel\nregel";1970-01-01;1761 AB;4;\n;;Fout;1970-13-01;1761 AB;5;\n`,
    );
    expect(code).toBe(1); // rows were refused
    expect(out).toContain('line 4, resident.surname: bevat ongeldige tekens'); // a name over two lines
    expect(out).toContain('line 5, resident.birthDate: is geen bestaande datum');
    expect(out).not.toContain('Fout;');
  });
});
