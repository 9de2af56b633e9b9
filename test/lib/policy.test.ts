import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicies, parsePolicy } from '../../lib/policy.js';
import { DAY_MS, DEFAULT_POLICY, shortPolicy } from '../../workflows/policy.js';

describe('outreach policy validation', () => {
  it('accepts the production defaults and the short test policy unchanged', () => {
    expect(parsePolicy({})).toEqual(DEFAULT_POLICY);
    expect(parsePolicy(shortPolicy(1_000))).toEqual(shortPolicy(1_000));
  });

  it('reads durations written as text and keeps the other defaults', () => {
    const p = parsePolicy({
      letterWaitMs: '10d',
      phone: { retryWaitMs: '36h' },
      retention: { afterDeclineMs: '2w' },
    });
    expect(p.letterWaitMs).toBe(10 * DAY_MS);
    expect(p.phone).toEqual({ ...DEFAULT_POLICY.phone, retryWaitMs: 36 * 3_600_000 });
    expect(p.retention.afterDeclineMs).toBe(14 * DAY_MS);
    expect(p.visit).toEqual(DEFAULT_POLICY.visit);
  });

  it('names every wrong field', () => {
    expect(() =>
      parsePolicy({ letterWaitMs: 'soon', phone: { maxAttempts: 0 }, crisisStart: 'letter' }),
    ).toThrow(/letterWaitMs: expected a duration[\s\S]*phone\.maxAttempts[\s\S]*crisisStart/);
    expect(() =>
      parsePolicy({ selection: { Huur: { enabled: true, minAmount: -1, minDaysInArrears: 30 } } }),
    ).toThrow(/selection\.Huur\.minAmount/);
    expect(() => parsePolicy({ unknownSetting: 1 })).toThrow(/unknownSetting|Unrecognized/);
  });

  it('gives each municipality its own policy from the file, over a shared default', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.json');
    writeFileSync(
      file,
      JSON.stringify({ default: { letterWaitMs: '5d' }, GM0363: { phone: { maxAttempts: 4 } } }),
    );
    const policyFor = loadPolicies(file);
    expect(policyFor('GM0363').letterWaitMs).toBe(5 * DAY_MS);
    expect(policyFor('GM0363').phone.maxAttempts).toBe(4);
    expect(policyFor('GM1911').phone.maxAttempts).toBe(3);
    expect(policyFor('GM1911').letterWaitMs).toBe(5 * DAY_MS);
  });
});
