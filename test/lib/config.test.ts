import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

describe('configuration', () => {
  it('starts with embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.HTTP_PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
    expect(config.MUNICIPALITY_CODE).toBe('GM1911');
  });

  it('names the variable and what is expected when a value is wrong', () => {
    expect(() => loadConfig({ HTTP_PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTP_PORT: 'eighty' })).toThrow(/HTTP_PORT: .*number/);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(
      /TEMPORAL_ADDRESS: expected host:port/,
    );
    expect(() => loadConfig({ MUNICIPALITY_CODE: '1911' })).toThrow(
      /MUNICIPALITY_CODE: expected a CBS municipality code/,
    );
  });

  it('lists every wrong variable at once and never echoes the database URL', () => {
    const attempt = () => loadConfig({ DATABASE_URL: 'mysql://user:secret@host/db', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(/DATABASE_URL: expected a URL starting with postgres/);
    expect(attempt).toThrow(/LOG_LEVEL/);
    expect(attempt).not.toThrow(/secret/);
  });

  it('never repeats the given value of a secret, a key or an address, only of ports, levels and codes', () => {
    const given = {
      MATCHING_SECRET: 'kort-geheim-1',
      DDAS_CLIENT_SECRET: 'kort-geheim-2',
      PAYLOAD_ENCRYPTION_KEY: 'geen-base64-sleutel-3',
      SMTP_URL: 'http://user:geheim-4@mail.example',
      TEMPORAL_ADDRESS: 'user:geheim-5@temporal',
      TEMPORAL_UI_URL: 'ftp://user:geheim-6@ui.example',
      MUNICIPALITY_EMAIL: 'geen-adres-7',
      HTTP_PORT: 'eighty',
    };
    let message = '';
    try {
      loadConfig(given);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of Object.keys(given)) expect(message).toContain(`${name}:`);
    expect(message).not.toMatch(/geheim|sleutel|geen-adres/);
    expect(message).toMatch(/HTTP_PORT: .*\(got "eighty"\)/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', HTTP_PORT: '' }).HTTP_PORT).toBe(3000);
  });

  it('stops the process with exit code 2 and the message on a wrong value', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync('npx', ['tsx', 'bin/api.ts'], {
      env: { ...process.env, HTTP_PORT: '99999' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/HTTP_PORT/);
    expect(run.stderr).toMatch(/\.env\.example/);
  });
});
