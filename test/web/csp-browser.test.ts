/**
 * The pages outside the signed-in workspace under the Content-Security-Policy in a real browser: the
 * partner API's Swagger UI renders its operations and the sign-in page works, with nothing refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness, watchCsp } from '../helpers/browser.js';

let harness: BrowserHarness;
beforeAll(async () => {
  harness = await startBrowserHarness();
}, 120_000);
afterAll(async () => {
  await harness?.close();
});

describe('pages under the Content-Security-Policy', () => {
  it('renders the Swagger UI of the partner API and the sign-in page without a refusal', async () => {
    const context = await harness.browser.newContext();
    const violations = watchCsp(context);
    const page = await context.newPage();
    await page.goto(`${harness.base}/docs`);
    // Swagger UI's own script built the page from /docs/json: the signal intake operation is listed.
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/signals' }).first().waitFor();
    await page.goto(`${harness.base}/login`);
    await page.getByLabel('Gebruikersnaam').fill('niemand');
    await page.getByLabel('Wachtwoord').fill('onjuist-wachtwoord');
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.getByText('De gebruikersnaam of het wachtwoord klopt niet.').waitFor();
    expect(violations).toEqual([]);
    await context.close();
  });
});
