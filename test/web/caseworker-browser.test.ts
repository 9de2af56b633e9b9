/**
 * The caseworker workspace in a real browser (Debian's Chromium, headless, via playwright-core) against the
 * real Temporal dev server and PostgreSQL: the outreach ladder worked through the pages, two caseworkers
 * racing for one task, and an axe-core accessibility check of the main pages.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeUser, openTask, PASSWORD, startCase, testPolicy } from '../api/caseworker-helpers.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness, watchCsp } from '../helpers/browser.js';
import type { TestHarness } from '../helpers/temporal.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let harness: BrowserHarness;
let h: TestHarness;
let browser: Browser;
let base: string;

beforeAll(async () => {
  harness = await startBrowserHarness();
  ({ h, browser, base } = harness);
});
afterAll(async () => {
  await harness?.close();
});
/** Per signed-in context: what its pages' CSP refused (none allowed). */
const cspViolations: string[][] = [];
afterEach(() => {
  expect(cspViolations.flat()).toEqual([]);
});

async function login(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  cspViolations.push(watchCsp(context));
  const page = await context.newPage();
  await page.goto(`${base}/taken`);
  await page.getByLabel('Gebruikersnaam').fill(username);
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL(/\/taken/);
  return page;
}

/** No serious or critical axe-core violations on the current page. */
async function expectAccessible(page: Page, name: string) {
  // Evaluated through the DevTools protocol, as the pages' CSP rightly refuses an inline script tag.
  await page.evaluate(axeSource);
  const result = (await page.evaluate(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))',
  )) as { id: string; impact: string; nodes: number }[];
  const serious = result.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${name}: ${JSON.stringify(result)}`).toEqual([]);
}

/** The text of the first match, once it is visible. */
async function visibleText(locator: Locator): Promise<string> {
  await locator.first().waitFor({ state: 'visible' });
  return (await locator.first().textContent()) ?? '';
}

async function completeForm(page: Page, taskId: string, choose: (page: Page) => Promise<void>) {
  await page.goto(`${base}/taken/${taskId}`);
  await choose(page);
  await page.getByRole('button', { name: 'Vastleggen' }).click();
  await page.waitForURL(/\/zaken\//);
}

describe('caseworker workspace in the browser', () => {
  it('works a case from the first call to consent at the second home visit', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { stored, area } = await startCase(h);
    const first = await openTask(h.db, stored.caseKey, 'phone', 1);
    const page = await login(user);

    await page.goto(`${base}/taken?scope=team&area=${area}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Teamtaken');
    await page.screenshot({ path: `${SCREENSHOTS}/inbox.png`, fullPage: true });
    await expectAccessible(page, 'inbox');
    await page
      .getByRole('button', { name: /^Oppakken/ })
      .first()
      .click();
    expect(await visibleText(page.getByRole('status'))).toContain('opgepakt');
    await page.getByRole('link', { name: 'Mijn taken' }).click();
    expect(await page.locator('tbody tr').count()).toBe(1);

    await page.getByRole('link', { name: /^Uitkomst vastleggen/ }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Telefoongesprek vastleggen');
    expect(await page.getByLabel('Dagdeel').inputValue()).toMatch(/Ochtend|Middag|Avond/);
    await page.screenshot({ path: `${SCREENSHOTS}/phone-form.png`, fullPage: true });
    await expectAccessible(page, 'phone form');
    await page.getByLabel('Niet bereikt').check();
    await page.getByLabel('Korte notitie (optioneel)').fill('Geen gehoor, voicemail');
    await page.getByRole('button', { name: 'Vastleggen' }).click();
    await page.waitForURL(new RegExp(`/zaken/${first.case_id}`));
    await page.getByText('Geen gehoor, voicemail').first().waitFor({ state: 'visible' });

    // The next attempt appears on the case page once the workflow's wait is over.
    const second = await openTask(h.db, stored.caseKey, 'phone', 2);
    await page.reload();
    await page.locator('#stand').first().waitFor({ state: 'visible' });
    await page.getByText('Bellen (poging 2)').first().waitFor({ state: 'visible' });
    await completeForm(page, second.id, (p) => p.getByLabel('Niet bereikt').check());

    const visit1 = await openTask(h.db, stored.caseKey, 'visit', 1);
    await completeForm(page, visit1.id, (p) => p.getByLabel('Niemand thuis: kaartje achtergelaten').check());
    const visit2 = await openTask(h.db, stored.caseKey, 'visit', 2);
    await completeForm(page, visit2.id, async (p) => {
      await p.getByLabel('Inwoner gesproken').check();
      await p.getByLabel('Toestemming: overdracht naar schuldhulpverlening').check();
      await p.getByLabel('Datum toestemmingsformulier').fill('2026-11-27');
      await p.getByLabel('Kenmerk toestemmingsformulier').fill('TF-2026-0099');
    });
    expect(await visibleText(page.locator('#case-stage'))).toContain('Overgedragen aan schuldhulpverlening');
    await page.getByText('Kaartje achtergelaten').first().first().waitFor({ state: 'visible' });
    await page.screenshot({ path: `${SCREENSHOTS}/case.png`, fullPage: true });
    await expectAccessible(page, 'case page');

    await page.goto(`${base}/huisbezoeken`);
    await expectAccessible(page, 'visit list');
    await page.context().close();
  });

  it('records an objection to data sharing with a declined call: the round ends and the case page says so', async () => {
    const user = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    // Retention long enough to see the case while it waits, objected, for the deletion.
    const policy = { ...testPolicy(), retention: { ...testPolicy().retention, afterDeclineMs: 120_000 } };
    const { stored } = await startCase(h, 'Zorg', policy);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);
    const page = await login(user);
    await completeForm(page, task.id, async (p) => {
      expect(await visibleText(p.locator('#taak-objection-hint'))).toContain(
        'Het lopende contact stopt dan (geen brieven, telefoontjes of huisbezoeken meer)',
      );
      await p.getByLabel('Bereikt en gesproken').check();
      await p.getByLabel('Wil geen hulp').check();
      await p.getByLabel('Inwoner maakt bezwaar tegen het delen van gegevens door schuldeisers').check();
    });
    expect(await visibleText(page.locator('#bezwaarregister'))).toContain(
      'Deze inwoner staat in het bezwaarregister',
    );
    expect(await visibleText(page.locator('#case-stage'))).toBe('Bezwaar tegen gegevensdeling (afgesloten)');
    // An ended round offers nothing to record: no contact form, no task to complete.
    expect(await page.getByRole('heading', { name: 'De inwoner nam zelf contact op' }).count()).toBe(0);
    expect(await page.getByRole('button').filter({ hasText: 'vastleggen' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'uitkomst vastleggen' }).count()).toBe(0);
    await page.screenshot({ path: `${SCREENSHOTS}/case-objection.png`, fullPage: true });
    await expectAccessible(page, 'case page with objection');
    const resident = await h.db
      .selectFrom('residents')
      .select('objected')
      .where('case_key', '=', stored.caseKey)
      .executeTakeFirstOrThrow();
    expect(resident.objected).toBe(true);
    await page.context().close();
  });

  it("shows the second caseworker the workflow's refusal when a colleague completed the task first", async () => {
    const a = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const b = await makeUser(h.db, ['caseworker'], ['schulddienstverlening']);
    const { stored } = await startCase(h);
    const task = await openTask(h.db, stored.caseKey, 'phone', 1);
    const pageA = await login(a);
    const pageB = await login(b);
    await pageA.goto(`${base}/taken/${task.id}`);
    await pageB.goto(`${base}/taken/${task.id}`);
    await pageA.getByLabel('Niet bereikt').check();
    await pageA.getByRole('button', { name: 'Vastleggen' }).click();
    await pageA.waitForURL(/\/zaken\//);

    await pageB.getByLabel('Niet bereikt').check();
    await pageB.getByRole('button', { name: 'Vastleggen' }).click();
    expect(await visibleText(pageB.getByRole('alert'))).toContain('al afgerond');
    await pageB.screenshot({ path: `${SCREENSHOTS}/refusal.png`, fullPage: true });
    const row = await h.db
      .selectFrom('tasks')
      .select(['completed_by'])
      .where('id', '=', task.id)
      .executeTakeFirstOrThrow();
    expect(row.completed_by).toBe(a);
  });
});
