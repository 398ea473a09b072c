import type { Browser, BrowserContext } from 'playwright-core';
import { metricsQuery, readFilters } from '../../web/src/filters';
import { dashboardLoaded, launchChromium, watchedPage } from './chromium';
import { apiAnswer, type DashboardServer, type RecordedAnswer, startDashboardServer } from './server';
import { expectSummaryShown } from './summary';

/**
 * The dashboard meeting a store of closed days that lacks the days it asks for (issue 20), on a server of
 * its own: its store is on (the main suite's is off, its Loki-deadline cases need the 504 a store turns
 * into the 503 of a fill). GET /metrics/summary answers 503 with Retry-After and how far the store is, the
 * missing days are filled in the API's process meanwhile, and the page shows that progress, asks again
 * after Retry-After and then shows the numbers. The page's clock is Playwright's, so Retry-After (up to a
 * minute) passes at once.
 */

const DAY_MS = 86_400_000;
/** A one-day look-around: a short summary reads few days, so measuring what a day costs is quick. */
const LOOKAROUND_DAYS = 1;

let server: DashboardServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [server, browser] = await Promise.all([
    startDashboardServer({ storeOfClosedDays: { env: { LOOKAROUND_DAYS: String(LOOKAROUND_DAYS) } } }),
    launchChromium(),
  ]);
  context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

/** GET /metrics/summary as the page asks it, until it answers 200 (the store has every day it needs). */
async function untilAnswered(query: Record<string, string | undefined>): Promise<void> {
  for (const giveUpAt = Date.now() + 90_000; Date.now() < giveUpAt; ) {
    const answer = await apiAnswer(server, 'metrics/summary', { query });
    if (answer.status === 200) return;
    if (answer.status !== 503) throw new Error(`metrics/summary: HTTP ${answer.status} ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error('the store was not filled within 90 s');
}

describe('the dashboard while the store of closed days is being filled', () => {
  it('shows how many of the days needed are stored, asks again after Retry-After, then shows the numbers', async () => {
    // Arrange: the summary function measures what a missing day costs on a slow Loki (8 days, 200 days
    // back, each query 3 s late: ~400 ms a day), so the 90-day view's 180 days, most of them missing, are more than one
    // request can read before its deadline, and it answers the 503 of a fill at once.
    server.slowLokiQueries(3_000);
    const measured = await apiAnswer(server, 'metrics/summary', {
      query: { start_date: daysAgo(202), end_date: daysAgo(200) },
    }).finally(() => server.slowLokiQueries(undefined));
    expect(measured.status).toBe(200);
    const filters = readFilters('?period=90', today());
    const { page, errors } = await watchedPage(context, server.baseUrl, { token: server.token });
    await page.clock.install();
    const answers: Array<Promise<RecordedAnswer & { retryAfter: string | null }>> = [];
    page.on('response', (response) => {
      if (!new URL(response.url()).pathname.endsWith('/metrics/summary')) return;
      answers.push(
        response.text().then((body) => ({
          status: response.status(),
          contentType: response.headers()['content-type'] ?? '',
          retryAfter: response.headers()['retry-after'] ?? null,
          body,
        })),
      );
    });

    // Act: the page meets the 503; once the store is filled, Retry-After passes and it asks again.
    await page.goto(`${server.baseUrl}/?period=90`);
    const status = page.locator('[data-filling="glance"], [data-part-error="glance"]').first();
    await status.waitFor();
    const shown = await status.textContent();
    const bar = await status.evaluate((node) => {
      const progress = node.querySelector('progress');
      return progress === null ? null : { value: progress.value, max: progress.max };
    });
    await untilAnswered(metricsQuery(filters));
    await page.clock.fastForward('01:00');
    await dashboardLoaded(page);

    // Assert: the progress of the API's own 503, then the numbers of the filled store, no error shown.
    const [busy, ...later] = await Promise.all(answers);
    expect(busy).toMatchObject({
      status: 503,
      contentType: expect.stringMatching(/^application\/problem\+json/),
      retryAfter: expect.stringMatching(/^\d+$/),
    });
    const store = (JSON.parse(busy?.body ?? '{}') as { store: Record<string, number> }).store;
    // The closed days of the current and the previous 90 days (not today) and the look-around day before
    // them; yesterday closes 2 hours after midnight.
    expect(store.daysNeeded).toBeGreaterThanOrEqual(179);
    expect(store.daysNeeded).toBeLessThanOrEqual(180);
    expect(store.daysPresent).toBeLessThan(store.daysNeeded as number);
    expect(shown).toBe(
      `Preparing the summary: the days of this period are being stored for fast answers, ${store.daysPresent} of ${store.daysNeeded} days ready (about ${Math.max(1, Math.round((store.etaSeconds as number) / 60))} min to go). `,
    );
    expect(bar).toEqual({ value: store.daysPresent, max: store.daysNeeded });
    expect(later.map((answer) => answer.status)).toEqual([200]);
    await expectSummaryShown(page, server, filters);
    expect(await page.locator('[data-part-error], [data-filling], [data-retry]').count()).toBe(0);
    expect(errors.filter((error) => !error.includes('503'))).toEqual([]);
    await page.close();
  });
});
