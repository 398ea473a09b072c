import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { attentionText } from '../../web/src/attention';
import {
  BOT_AUTHORS,
  dataRequest,
  effectiveInterval,
  metricsQuery,
  readFilters,
  writeFilters,
} from '../../web/src/filters';
import { chartValueText, METRIC_TITLES, SO_FAR } from '../../web/src/format';
import { type DeploymentRecord, METRIC_NAMES, type MetricPoint, type Summary } from '../../web/src/types';
import { gate } from '../helpers/control';
import { dashboardLoaded, launchChromium, type Watched, watchedPage } from './chromium';
import {
  apiAnswer,
  apiJson,
  type DashboardServer,
  type RecordedAnswer,
  startDashboardServer,
} from './server';
import { expectSummaryShown } from './summary';

/**
 * The dashboard in a real Chromium against the API started the way `npm start` starts it, with
 * authentication on. Screenshots go to SCREENSHOT_DIR (default browser-screenshots/, not committed);
 * scripts/screenshot.ts copies docs/dashboard.png from the same kind of run.
 */

const ROOT = path.resolve(__dirname, '../..');
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? path.join(ROOT, 'browser-screenshots');
const VIEWPORT = { width: 1400, height: 900 };

let server: DashboardServer;
let browser: Browser;
let context: BrowserContext;
/** The API's own 504 when Loki is slower than one request; asked for at the start, as it takes ~27 s. */
let lokiDeadline: Promise<RecordedAnswer>;

/** A repository no query but this one names: Loki never answers its queries (`stallLokiQueries`). */
const STALLED_REPOSITORY = 'loki_deadline_probe';

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The page with every part loaded (summary cards, charts, the deployments table and the GitOps part). */
async function openDashboard(query = '', options: { token?: string | null } = {}): Promise<Watched> {
  const token = options.token === null ? undefined : (options.token ?? server.token);
  const watched = await watchedPage(context, server.baseUrl, token === undefined ? {} : { token });
  await watched.page.goto(`${server.baseUrl}/${query}`);
  if (token !== undefined) await dashboardLoaded(watched.page);
  return watched;
}

/** What the API answers when Loki does not answer before the request's deadline. */
async function answerWhileLokiStalls(): Promise<RecordedAnswer> {
  server.stallLokiQueries(STALLED_REPOSITORY);
  try {
    return await apiAnswer(server, 'data', {
      method: 'POST',
      body: { ...dataRequest(readFilters('', today())), repositories: [STALLED_REPOSITORY] },
    });
  } finally {
    server.stallLokiQueries(undefined);
  }
}

/** Whether a request is the page's GET /metrics for this one metric. */
function metricSeries(metric: string): (url: URL) => boolean {
  return (url) => url.pathname.endsWith('/metrics') && url.searchParams.get('metric') === metric;
}

/**
 * The page loaded with `answer` given to every GET /metrics/summary: how often it asked, the summary's
 * error, and whether the rest of the page (the deployments) is shown.
 */
async function pageWithSummaryAnswering(answer: RecordedAnswer) {
  const { page } = await watchedPage(context, server.baseUrl, { token: server.token });
  let asked = 0;
  await page.route(
    (url) => url.pathname.endsWith('/metrics/summary'),
    (route) => {
      asked += 1;
      return route.fulfill(answer);
    },
  );
  await page.goto(`${server.baseUrl}/`);
  await dashboardLoaded(page);
  const shown = await page.locator('[data-part-error="glance"]').textContent();
  const recordsShown = (await page.locator('#deployments table.records').count()) === 1;
  await page.close();
  return { asked, shown, recordsShown };
}

/** When the page painted at all, painted the summary cards (first meaningful paint) and the table. */
function timings(page: Page) {
  return page.evaluate(() => {
    const at = (name: string) => {
      const time = performance.getEntriesByName(name)[0]?.startTime;
      return time === undefined ? null : Math.round(time);
    };
    return {
      firstContentfulPaint: at('first-contentful-paint'),
      summary: at('dora:summary'),
      deployments: at('dora:deployments'),
    };
  });
}

/** The "Show the numbers" table of a chart, row by row. */
async function chartRows(page: Page, chart: string): Promise<string[][]> {
  return page
    .locator(`[data-chart="${chart}"] .chart-data tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')),
    );
}

/**
 * The bucket cells the tables should show for a period that ends today: the last bucket holds today,
 * so it is still running and says so.
 */
function bucketsEndingToday(points: MetricPoint[]): string[] {
  return points.map((point, index) =>
    index === points.length - 1 ? `${point.date} ${SO_FAR}` : String(point.date),
  );
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  [server, browser] = await Promise.all([startDashboardServer(), launchChromium()]);
  context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
  lokiDeadline = answerWhileLokiStalls();
  // Awaited by its test; a failure before then must not end the run as an unhandled rejection.
  lokiDeadline.catch(() => {});
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the dashboard in Chromium', () => {
  it('loads every part with no console error and no request beyond the API', async () => {
    const { page, errors, serverErrors, external } = await openDashboard();

    // The first load after start: every function's first (cold) invocation in serverless offline.
    console.log(`dashboard timings (ms since navigation, cold API): ${JSON.stringify(await timings(page))}`);
    await screenshot(page, 'dashboard');
    expect(await page.locator('#glance .card').count()).toBe(5);
    expect(await page.locator('#trends .chart canvas').count()).toBe(6);
    expect(await page.locator('#deployments table.records tbody tr:not(.spacer)').count()).toBeGreaterThan(
      10,
    );
    expect(await page.locator('#gitops table.gitops tbody tr').count()).toBe(4);
    expect({ errors, serverErrors, external }).toEqual({ errors: [], serverErrors: [], external: [] });
    await page.close();
  });

  it('paints the summary within a second on a warm API (figures printed)', async () => {
    const { page } = await openDashboard();

    const marks = await timings(page);
    // A measurement for the report, not a timing assertion (the machine is shared).
    console.log(`dashboard timings (ms since navigation, warm API): ${JSON.stringify(marks)}`);
    expect(marks.summary).not.toBeNull();
    await page.close();
  });

  it('shows the numbers of /metrics/summary for the same filters', async () => {
    const { page } = await openDashboard();

    await expectSummaryShown(page, server, readFilters('', today()));
    await page.close();
  });

  it('charts the series of /metrics for the same filters, deployments split into healthy and failed', async () => {
    const { page } = await openDashboard();
    const filters = readFilters('', today());
    const interval = effectiveInterval(filters);

    for (const metric of METRIC_NAMES) {
      const points = await apiJson<MetricPoint[]>(server, 'metrics', {
        query: { ...metricsQuery(filters), metric, interval },
      });
      const buckets = bucketsEndingToday(points);
      expect(await chartRows(page, metric)).toEqual(
        points.map((point, index) => [
          buckets[index],
          chartValueText(metric, point.value),
          point.count.toLocaleString('en-GB'),
        ]),
      );
    }
    const deployments = await apiJson<MetricPoint[]>(server, 'metrics', {
      query: { ...metricsQuery(filters), metric: 'change_failure_rate', interval },
    });
    const buckets = bucketsEndingToday(deployments);
    expect(await chartRows(page, 'deployments')).toEqual(
      deployments.map((point, index) => [
        buckets[index],
        String(point.count),
        String(point.count - (point.failed ?? 0)),
        String(point.failed ?? 0),
      ]),
    );
    await page.close();
  });

  it('marks the running bucket as so far, and no bucket of a period that has ended', async () => {
    const now = new Date();
    const mondayThisWeek = new Date(Date.now() - ((now.getUTCDay() + 6) % 7) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const weekly = await openDashboard('?interval=weekly');
    const weeklyFilters = readFilters('?interval=weekly', today());
    const points = await apiJson<MetricPoint[]>(server, 'metrics', {
      query: { ...metricsQuery(weeklyFilters), metric: 'change_failure_rate', interval: 'weekly' },
    });

    const soFarRows = async (page: Page) =>
      page.locator('.chart-data tbody tr.running').evaluateAll((rows) =>
        rows.map((row) => ({
          chart: row.closest('[data-chart]')?.getAttribute('data-chart'),
          bucket: row.querySelector('td')?.textContent,
          last: row.nextElementSibling === null,
        })),
      );
    const marked = await soFarRows(weekly.page);
    const legend = await weekly.page.locator('[data-chart="change_failure_rate"] .u-legend').textContent();
    await weekly.page
      .locator('#trends')
      .screenshot({ path: path.join(SCREENSHOTS, 'dashboard-running-week.png') });
    await weekly.page.close();
    const ended = await openDashboard('?start=2026-01-05&end=2026-01-25&interval=weekly');
    const endedMarks = await soFarRows(ended.page);
    const endedCells = (await chartRows(ended.page, 'deployments')).map((row) => row[0]);
    await ended.page.close();

    const byChart = (a: { chart: unknown }, b: { chart: unknown }) =>
      String(a.chart).localeCompare(String(b.chart));
    expect(marked.sort(byChart)).toEqual(
      ['deployments', ...METRIC_NAMES].sort().map((chart) => ({
        chart,
        bucket: `${mondayThisWeek} ${SO_FAR}`,
        last: true,
      })),
    );
    expect(points.at(-1)?.date).toBe(mondayThisWeek);
    expect(legend).toContain(`${METRIC_TITLES.change_failure_rate} ${SO_FAR}`);
    expect(endedMarks).toEqual([]);
    expect(endedCells).toEqual(['2026-01-05', '2026-01-12', '2026-01-19']);
  });

  it('changes the URL and the numbers when the team or the period changes', async () => {
    const { page, errors, serverErrors } = await openDashboard();
    const team = server.sample.teams[1]?.name as string;
    const before = await page
      .locator('.card[data-metric="deployment_frequency"] [data-testid="value"]')
      .textContent();

    await page.getByRole('combobox', { name: 'Team', exact: true }).selectOption(team);
    await page.waitForURL((url) => url.searchParams.get('team') === team);
    await dashboardLoaded(page);
    const teamFilters = readFilters(new URL(page.url()).search, today());
    await expectSummaryShown(page, server, teamFilters);
    const after = await page
      .locator('.card[data-metric="deployment_frequency"] [data-testid="value"]')
      .textContent();

    await page.getByRole('combobox', { name: 'Period', exact: true }).selectOption('90');
    await page.waitForURL((url) => url.searchParams.get('period') === '90');
    await dashboardLoaded(page);
    const longer = readFilters(new URL(page.url()).search, today());
    await expectSummaryShown(page, server, longer);
    expect(await page.locator('#trends-title').textContent()).toContain('(weekly)');
    await screenshot(page, 'dashboard-team-90-days');

    expect({
      after: after !== before,
      team: longer.team,
      period: longer.period,
      errors,
      serverErrors,
    }).toEqual({
      after: true,
      team,
      period: '90',
      errors: [],
      serverErrors: [],
    });
    // The link alone shows the same view.
    const shared = await openDashboard(writeFilters(longer));
    await expectSummaryShown(shared.page, server, longer);
    await shared.page.close();
    await page.close();
  });

  it('shows a period of chosen dates, from a link and from the date fields', async () => {
    const end = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    const start = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const { page, errors } = await openDashboard(`?start=${start}&end=${end}`);

    await expectSummaryShown(page, server, readFilters(`?start=${start}&end=${end}`, today()));
    const laterStart = new Date(Date.parse(start) + 7 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('From').fill(laterStart);
    await page.waitForURL((url) => url.searchParams.get('start') === laterStart);
    await dashboardLoaded(page);

    await expectSummaryShown(page, server, readFilters(new URL(page.url()).search, today()));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by repository from the keyboard alone', async () => {
    const { page, errors } = await openDashboard();
    const repositories = page.locator('details.repositories');

    await repositories.locator('summary').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => (document.activeElement as HTMLInputElement).value);
    await page.keyboard.press('Space');
    await page.waitForURL((url) => url.searchParams.get('repositories') === first);
    await dashboardLoaded(page);
    await page.keyboard.press('Escape');

    await expectSummaryShown(page, server, readFilters(new URL(page.url()).search, today()));
    expect(await repositories.evaluate((details) => (details as HTMLDetailsElement).open)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('narrows to a service of /services, in the URL too', async () => {
    const { page, errors } = await openDashboard();
    const { services } = await apiJson<{ services: string[] }>(server, 'services');
    const service = services[0] as string;

    await page.getByRole('combobox', { name: 'Service', exact: true }).selectOption(service);
    await page.waitForURL((url) => url.searchParams.get('service') === service);
    await dashboardLoaded(page);

    await expectSummaryShown(page, server, readFilters(new URL(page.url()).search, today()));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lists the /data records newest first, sortable by keyboard and filterable', async () => {
    const { page } = await openDashboard();
    const filters = readFilters('', today());
    const { records } = await apiJson<{ records: DeploymentRecord[] }>(server, 'data', {
      method: 'POST',
      body: dataRequest(filters),
    });
    const newest = [...records].sort((a, b) =>
      b.created_at.localeCompare(a.created_at),
    )[0] as DeploymentRecord;
    const firstRow = page.locator('table.records tbody tr:not(.spacer)').first();

    expect(await page.getByTestId('deployments-count').textContent()).toMatch(
      new RegExp(
        `^${records.length.toLocaleString('en-GB')} of ${records.length.toLocaleString('en-GB')} deployments`,
      ),
    );
    expect(await firstRow.locator('td').nth(0).textContent()).toBe(
      newest.created_at.slice(0, 16).replace('T', ' '),
    );
    expect(await firstRow.locator('td').nth(1).textContent()).toBe(newest.repository);

    const repositoryHeader = page.getByRole('button', { name: 'Repository' });
    await repositoryHeader.focus();
    await page.keyboard.press('Enter');
    const alphabeticallyFirst = records
      .map((record) => record.repository)
      .sort((a, b) => a.localeCompare(b))[0];
    expect(await page.locator('th:has(button:text-is("Repository"))').getAttribute('aria-sort')).toBe(
      'ascending',
    );
    expect(await firstRow.locator('td').nth(1).textContent()).toBe(alphabeticallyFirst);

    const repository = newest.repository;
    await page.getByRole('searchbox', { name: 'Search' }).fill(repository);
    const matching = records.filter((record) =>
      [record.repository, record.team, record.title, record.user, record.sha].some((text) =>
        text?.toLowerCase().includes(repository.toLowerCase()),
      ),
    ).length;
    expect(await page.getByTestId('deployments-count').textContent()).toMatch(
      new RegExp(`^${matching.toLocaleString('en-GB')} of `),
    );
    await page.close();
  });

  it('keeps 20,000 deployments fast: only the rows in view are drawn (figures printed)', async () => {
    const { page } = await openDashboard();
    const { records } = await apiJson<{ records: DeploymentRecord[] }>(server, 'data', {
      method: 'POST',
      body: dataRequest(readFilters('', today())),
    });
    // 20,000 records made from the real ones (shifted in time), answered in place of /data for this page.
    const many = Array.from({ length: 20_000 }, (_, index) => {
      const record = records[index % records.length] as DeploymentRecord;
      const shift = Math.floor(index / records.length) * 60_000;
      return { ...record, created_at: new Date(Date.parse(record.created_at) - shift).toISOString() };
    });
    const body = JSON.stringify({ records: many });
    await page.route(`${server.baseUrl}/data`, (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body }),
    );
    await page.reload();
    await dashboardLoaded(page);
    await page.getByTestId('deployments-count').filter({ hasText: '20,000 of 20,000' }).waitFor();

    const figures = await page.evaluate(async () => {
      const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      const button = [...document.querySelectorAll<HTMLButtonElement>('th button.sort')].find((b) =>
        b.textContent?.startsWith('Author'),
      ) as HTMLButtonElement;
      let start = performance.now();
      button.click();
      await frame();
      const sortMs = performance.now() - start;
      const scroller = document.querySelector('.table-scroll') as HTMLElement;
      start = performance.now();
      for (let i = 1; i <= 20; i += 1) {
        scroller.scrollTop = (scroller.scrollHeight * i) / 20;
        await frame();
      }
      const scrollFrameMs = (performance.now() - start) / 20;
      const input = document.querySelector<HTMLInputElement>('input[type="search"]') as HTMLInputElement;
      start = performance.now();
      input.value = 'fix';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await frame();
      const filterMs = performance.now() - start;
      return {
        rowsInDom: document.querySelectorAll('table.records tbody tr:not(.spacer)').length,
        sortMs: Math.round(sortMs),
        scrollFrameMs: Math.round(scrollFrameMs),
        filterMs: Math.round(filterMs),
        tableReadyMs: Math.round(performance.getEntriesByName('dora:deployments')[0]?.startTime ?? -1),
      };
    });
    console.log(`20,000 deployments: ${JSON.stringify(figures)}`);
    expect(figures.rowsInDom).toBeGreaterThan(10);
    expect(figures.rowsInDom).toBeLessThan(60);
    await page.close();
  });

  it('says why a deployment has no author, and keeps full names in tooltips', async () => {
    const filters = readFilters('', today());
    const { records } = await apiJson<{ records: DeploymentRecord[] }>(server, 'data', {
      method: 'POST',
      body: dataRequest(filters),
    });
    const pushed = records.find((record) => record.user === null && record.merged_at === null);
    const { page } = await openDashboard();

    await page.getByRole('searchbox', { name: 'Search' }).fill(pushed?.sha ?? 'no-direct-push-in-sample');
    const row = page.locator('table.records tbody tr:not(.spacer)').first();
    const authorCell = row.locator('td').nth(4);
    const teamCell = row.locator('td').nth(2);

    expect(pushed).toBeDefined();
    expect(await authorCell.textContent()).toBe('direct push');
    expect(await authorCell.getAttribute('title')).toMatch(/pushed straight to the branch/);
    expect(await teamCell.getAttribute('title')).toBe(pushed?.team ?? '');
    await page.close();
  });

  it('shows numbers in every chart legend, never placeholders, before the pointer is on a chart', async () => {
    const { page } = await openDashboard();

    const legends = await page.locator('[data-chart] .u-legend').allTextContents();

    expect(legends).toHaveLength(METRIC_NAMES.length + 1);
    for (const legend of legends) {
      expect(legend).not.toContain('--');
      expect(legend).toMatch(/Bucket \(UTC\):?\s*\d{4}-\d{2}-\d{2}/);
    }
    await page.close();
  });

  it('names under each chart exactly the level bands it draws, with their ranges', async () => {
    const { page } = await openDashboard();
    const summary = await apiJson<Summary>(server, 'metrics/summary', {
      query: metricsQuery(readFilters('', today())),
    });

    const failureKey = await page
      .locator('[data-chart="change_failure_rate"] [data-testid="band-key"] [data-level]')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-level')));
    const reworkKeys = await page.locator('[data-chart="rework_rate"] [data-testid="band-key"]').count();

    // DORA 2024: medium (≤ 10 %) is stricter than high (≤ 20 %), so no stretch of the axis is medium.
    expect(summary.levels_source).toBe('dora-2024');
    expect(failureKey[0]).toBe('elite');
    expect(failureKey).not.toContain('medium');
    expect(reworkKeys).toBe(summary.levels_thresholds.rework_rate ? 1 : 0);
    await page.close();
  });

  it('leaves bots out of the numbers and the table when the toggle says so, in the URL too', async () => {
    const { page, errors } = await openDashboard();
    const toggle = page.getByRole('checkbox', { name: 'Leave out bots' });
    const bots = BOT_AUTHORS.join(',');

    await toggle.check();
    await page.waitForURL((url) => url.searchParams.get('exclude_authors') === bots);
    await dashboardLoaded(page);
    const filters = readFilters(new URL(page.url()).search, today());
    await expectSummaryShown(page, server, filters);
    const summary = await apiJson<Summary>(server, 'metrics/summary', { query: metricsQuery(filters) });
    const count = await page.getByTestId('deployments-count').textContent();
    const aside = await page.locator('#glance .aside').textContent();
    await toggle.uncheck();
    await page.waitForURL((url) => url.searchParams.get('exclude_authors') === '');

    expect(filters.excludeAuthors).toBe(bots);
    expect(summary.excluded_authors).toEqual([...BOT_AUTHORS]);
    expect(summary.excluded_changes).toBeGreaterThan(0);
    expect(aside).toContain(
      `${summary.excluded_changes.toLocaleString('en-GB')} changes by left-out authors`,
    );
    expect(count).toMatch(/by left-out authors not shown/);
    expect(await toggle.isChecked()).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('groups the cards as DORA does and lists each repository side by side, what needs attention first', async () => {
    const { page } = await openDashboard();
    const summary = await apiJson<Summary>(server, 'metrics/summary', {
      query: { ...metricsQuery(readFilters('', today())), group_by: 'repository' },
    });

    const groups = await page.locator('#glance [data-category]').evaluateAll((sections) =>
      sections.map((section) => ({
        category: section.getAttribute('data-category'),
        metrics: [...section.querySelectorAll('[data-metric]')].map((card) =>
          card.getAttribute('data-metric'),
        ),
      })),
    );
    const rows = await page
      .locator('[data-testid="by-repository"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const expected = summary.repositories ?? [];

    expect(groups).toEqual([
      {
        category: 'throughput',
        metrics: ['lead_time_for_changes', 'deployment_frequency', 'time_to_restore_service'],
      },
      { category: 'instability', metrics: ['change_failure_rate', 'rework_rate'] },
    ]);
    expect(expected.length).toBeGreaterThan(1);
    expect(rows).toHaveLength(Math.min(12, expected.length));
    expect(rows.map((row) => row[0])).toEqual(
      expected.slice(0, 12).map((repository) => repository.repository),
    );
    expect(rows[0]?.[2]).toBe(attentionText(expected[0] as NonNullable<Summary['repositories']>[number]));
    await page.close();
  });

  it('lists GitOps pairs out of sync first', async () => {
    const { page } = await openDashboard();

    const rows = await page
      .locator('table.gitops tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => `${tr.getAttribute('data-sync')} ${tr.querySelector('td')?.textContent}`),
      );

    expect(rows).toEqual([
      'OUT_OF_SYNC acme/payments-gitops',
      'OUT_OF_SYNC acme/platform-gitops',
      'SYNCED acme/platform-gitops',
      'SYNCED acme/storefront-gitops',
    ]);
    await page.close();
  });

  it('asks for a token on 401, keeps it out of the URL and the console, and then loads', async () => {
    const watched = await openDashboard('', { token: null });
    const { page } = watched;
    const prompt = page.getByRole('dialog', { name: 'This API needs a token' });

    await prompt.waitFor();
    expect(await prompt.textContent()).toContain('A bearer token is required');
    // The parts wait for the token instead of each showing the same 401.
    expect(await page.locator('[data-part-error]').count()).toBe(0);
    await screenshot(page, 'dashboard-token-prompt');
    // A token the API refuses brings the prompt back with the API's reason.
    await prompt.getByRole('textbox', { name: 'Token' }).fill('not.a.jwt');
    await page.keyboard.press('Enter');
    await prompt.getByText('The bearer token is not a valid JWT').waitFor();
    await prompt.getByRole('textbox', { name: 'Token' }).fill(server.token);
    await page.keyboard.press('Enter');
    await dashboardLoaded(page);

    expect(await prompt.count()).toBe(0);
    expect(page.url()).not.toContain(server.token);
    expect(watched.console.join('\n')).not.toContain(server.token);
    expect(await page.evaluate(() => sessionStorage.getItem('dora-api-token'))).toBe(server.token);
    await page.close();
  });

  it('shows an upstream error in the part it broke, and the rest of the page', async () => {
    server.breakGitOpsReads(true);
    try {
      const { page } = await openDashboard();

      const error = page.locator('[data-part-error="gitops"]');
      expect(await error.textContent()).toMatch(
        /^Could not load the GitOps status: Loki .*HTTP 503.*\(HTTP 502\)$/,
      );
      expect(await page.locator('#glance .card').count()).toBe(5);
      expect(await page.locator('[data-part-error]').count()).toBe(1);
      await screenshot(page, 'dashboard-upstream-error');
      await page.close();
    } finally {
      server.breakGitOpsReads(false);
    }
  });

  it('asks again while Loki runs out of time, saying so, and then draws the chart', async () => {
    const deadline = await lokiDeadline;
    expect({ status: deadline.status, detail: JSON.parse(deadline.body).detail }).toEqual({
      status: 504,
      detail: expect.stringMatching(/^Loki did not answer before the request deadline; asking again soon/),
    });
    const { page, errors } = await watchedPage(context, server.baseUrl, { token: server.token });
    const third = gate();
    third.hold();
    let asked = 0;
    // The first two answers are the API's 504; the third, held until the test has seen the status, is the API's own.
    await page.route(metricSeries('deployment_frequency'), async (route) => {
      asked += 1;
      if (asked <= 2) return route.fulfill(deadline);
      await third.pass();
      return route.continue();
    });

    await page.goto(`${server.baseUrl}/`);
    const status = page.locator('[data-retry="trends-deployment_frequency"]');
    await status.filter({ hasText: 'attempt 3 of 4' }).waitFor();
    const shown = await status.textContent();
    await screenshot(page, 'dashboard-loki-slow');
    third.release();
    await dashboardLoaded(page);

    expect(shown).toBe(
      'Loki is slow: reading deployment frequency continues where it stopped (attempt 3 of 4)…',
    );
    expect(asked).toBe(3);
    expect(await page.locator('[data-chart="deployment_frequency"] canvas').count()).toBe(1);
    expect(await page.locator('[data-part-error], [data-retry]').count()).toBe(0);
    expect(errors.filter((error) => !error.includes('504'))).toEqual([]);
    await page.close();
  });

  it('stops asking again when the filters change, and loads the new ones', async () => {
    const deadline = await lokiDeadline;
    const { page } = await watchedPage(context, server.baseUrl, { token: server.token });
    const firstView = readFilters('', today()).start;
    const secondAttempt = gate();
    secondAttempt.hold();
    const asked: string[] = [];
    await page.route(
      (url) => url.pathname.endsWith('/metrics/summary'),
      async (route) => {
        const start = new URL(route.request().url()).searchParams.get('start_date') ?? '';
        asked.push(start);
        if (start !== firstView) return route.continue();
        if (asked.length > 1) await secondAttempt.pass();
        // The page may have given up on this request meanwhile (that is the point).
        return route.fulfill(deadline).catch(() => {});
      },
    );

    await page.goto(`${server.baseUrl}/`);
    await page.locator('[data-retry="glance"]').waitFor();
    await page.getByRole('combobox', { name: 'Period', exact: true }).selectOption('7');
    await page.waitForURL((url) => url.searchParams.get('period') === '7');
    secondAttempt.release();
    await dashboardLoaded(page);
    // Time for a third attempt of the first view to be made, were the change not to stop it.
    await page.waitForTimeout(500);

    const secondView = readFilters(new URL(page.url()).search, today());
    expect(asked).toEqual([firstView, firstView, secondView.start]);
    expect(await page.locator('#glance .card').count()).toBe(5);
    await expectSummaryShown(page, server, secondView);
    await page.close();
  });

  it('shows the error after the fourth Loki deadline 504', async () => {
    const deadline = await lokiDeadline;

    const { asked, shown, recordsShown } = await pageWithSummaryAnswering(deadline);

    expect({ asked, shown, recordsShown }).toEqual({
      asked: 4,
      shown: `Could not load the summary: ${JSON.parse(deadline.body).detail} (HTTP 504)`,
      recordsShown: true,
    });
  });

  it.each([
    [
      400,
      () => apiAnswer(server, 'metrics/summary', { query: { start_date: today(), end_date: '2020-01-01' } }),
    ],
    [
      502,
      async () => {
        server.breakGitOpsReads(true);
        try {
          return await apiAnswer(server, 'status.json');
        } finally {
          server.breakGitOpsReads(false);
        }
      },
    ],
  ])('does not ask again after a %i', async (status, answerOfTheApi) => {
    const answer = await answerOfTheApi();

    const { asked, shown, recordsShown } = await pageWithSummaryAnswering(answer);

    expect({ status: answer.status, asked, shown, recordsShown }).toEqual({
      status,
      asked: 1,
      shown: `Could not load the summary: ${JSON.parse(answer.body).detail} (HTTP ${status})`,
      recordsShown: true,
    });
  });

  it('reads in dark mode', async () => {
    const dark = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'dark' });
    try {
      const watched = await watchedPage(dark, server.baseUrl, { token: server.token });
      await watched.page.goto(`${server.baseUrl}/`);
      await dashboardLoaded(watched.page);

      const colours = await watched.page.evaluate(() => {
        const style = getComputedStyle(document.body);
        return { background: style.backgroundColor, text: style.color };
      });
      await screenshot(watched.page, 'dashboard-dark');
      expect(colours).toEqual({ background: 'rgb(13, 17, 23)', text: 'rgb(230, 237, 243)' });
      expect(watched.errors).toEqual([]);
    } finally {
      await dark.close();
    }
  });
});
