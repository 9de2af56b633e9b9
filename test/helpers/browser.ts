/** Browser tests: Debian's Chromium driven by playwright-core, with the flags this closed network needs. */
import { existsSync, mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { startApiHarness } from './api.js';
import type { TestHarness } from './temporal.js';

export const SCREENSHOTS = 'test-artifacts/screenshots';

const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium from /usr/bin/chromium (installed by .ci/run from Debian). */
export async function launchBrowser(): Promise<Browser> {
  // One line naming the fix, instead of Playwright's screenful about its own browser downloads.
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium)`,
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Starts `app` on a free port and returns its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** The API on the real servers, listening on a free port, with a headless browser to drive it. */
export interface BrowserHarness {
  h: TestHarness;
  app: FastifyInstance;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Starts the API harness, listens, and launches Chromium; `close` stops all three. */
export async function startBrowserHarness(): Promise<BrowserHarness> {
  const { h, app } = await startApiHarness();
  const base = await listen(app);
  const browser = await launchBrowser();
  return {
    h,
    app,
    base,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await h.close();
    },
  };
}

/**
 * Collects what the browser refused under the pages' Content-Security-Policy (api/security.ts), from every
 * page of `context`: a test ends with `expect(violations).toEqual([])`, so a page that needs an inline
 * script or a foreign source fails where it is used.
 */
export function watchCsp(context: BrowserContext): string[] {
  const violations: string[] = [];
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}
