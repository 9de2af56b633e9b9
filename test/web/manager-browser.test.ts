import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeTask } from '../../workflows/messages.js';
import { makeUser, PASSWORD } from '../api/caseworker-helpers.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness, watchCsp } from '../helpers/browser.js';
import { openTask, startCase } from '../helpers/cases.js';
import type { TestHarness } from '../helpers/temporal.js';

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

describe('the history page in a browser', () => {
  it("shows a finished case's steps in order with the statechart marked", async () => {
    const { handle } = await startCase(h);
    const call = await openTask(handle, 'phone', 1);
    await handle.executeUpdate(completeTask, {
      args: [{ taskId: call.taskId, reached: false, dagdeel: 'Ochtend' }],
    });
    const second = await openTask(handle, 'phone', 2);
    await handle.executeUpdate(completeTask, {
      args: [
        {
          taskId: second.taskId,
          reached: true,
          dagdeel: 'Middag',
          outcome: { kind: 'consent', consentDate: '2026-11-27', consentReference: 'TF-2026-0099' },
        },
      ],
    });
    const result = await handle.result();

    const manager = await makeUser(h.db, ['manager'], ['schulddienstverlening', 'wijkteam'], 'mgr');
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const violations = watchCsp(context);
    const page = await context.newPage();
    await page.goto(`${base}/beheer/zaken`);
    await page.getByLabel('Gebruikersnaam').fill(manager);
    await page.getByLabel('Wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(/\/beheer\/zaken/);
    await page.locator(`a[href="/beheer/zaken/${result.caseId}"]`).click();
    await page.waitForURL(new RegExp(result.caseId));

    const steps = await page.getByTestId('timeline').locator('li').allInnerTexts();
    const expected = [
      'Signaal ontvangen',
      'Eerste brief verstuurd',
      'Beltaak aangemaakt (poging 1',
      'Medewerker legde vast: niet bereikt (Ochtend)',
      'Beltaak aangemaakt (poging 2',
      'Medewerker legde vast: bereikt (Middag), uitkomst',
      'Overgedragen aan schuldhulpverlening (toestemmingsformulier van 27 nov',
      'Zaak afgesloten',
    ];
    let from = 0;
    for (const text of expected) {
      const at = steps.findIndex((s, i) => i >= from && s.includes(text));
      expect(at, `"${text}" in order in:\n${steps.join('\n')}`).toBeGreaterThanOrEqual(from);
      from = at + 1;
    }
    // Mermaid turned the diagram into an SVG, with visited states styled.
    const svg = page.getByTestId('statechart').locator('svg');
    await expect.poll(() => svg.count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('[data-testid="statechart"] g.visited').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: `${SCREENSHOTS}/manager-case-history.png`, fullPage: true });

    // The monitor of this year shows the case among its figures, with charts beside the tables.
    await page.getByRole('link', { name: 'Monitor' }).click();
    await page.waitForURL(/\/beheer\/monitor/);
    const figures = (await page.getByTestId('key-figures').textContent()) ?? '';
    expect(figures).toMatch(/Signalen ontvangen/);
    expect(
      Number((/([\d.]+)\s*Signalen ontvangen/.exec(figures)?.[1] ?? '0').replace('.', '')),
    ).toBeGreaterThanOrEqual(1);
    expect(await page.locator('figure.vs-chart svg[role="img"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('figure.vs-chart polyline').count()).toBe(1);
    await expect.poll(() => page.getByRole('link', { name: 'CSV' }).count()).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: `${SCREENSHOTS}/manager-monitor.png`, fullPage: true });
    // Mermaid, the charts and the pages' own script all ran under the Content-Security-Policy.
    expect(violations).toEqual([]);
  });
});
