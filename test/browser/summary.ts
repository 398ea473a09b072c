import type { Page } from 'playwright-core';
import { type Filters, metricsQuery } from '../../web/src/filters';
import { LEVEL_TITLES, reading, trendText } from '../../web/src/format';
import { METRIC_NAMES, type Summary } from '../../web/src/types';
import { apiJson, type DashboardServer } from './server';

/** Each summary card of `page` shows what GET /metrics/summary of `server` answers for `filters`. */
export async function expectSummaryShown(
  page: Page,
  server: DashboardServer,
  filters: Filters,
): Promise<void> {
  const summary = await apiJson<Summary>(server, 'metrics/summary', { query: metricsQuery(filters) });
  const days = Math.round((Date.parse(filters.end) - Date.parse(filters.start)) / 86_400_000) + 1;
  for (const metric of METRIC_NAMES) {
    const card = page.locator(`.card[data-metric="${metric}"]`);
    const expected = summary.metrics[metric];
    const { figure, unit } = reading(metric, expected.value);
    const level = expected.level === null ? 'No DORA level' : LEVEL_TITLES[expected.level];
    expect({
      metric,
      value: await card.getByTestId('value').textContent(),
      unit: await card.getByTestId('unit').textContent(),
      level: await card.getByTestId('level').textContent(),
      trend: await card.getByTestId('trend').textContent(),
    }).toEqual({ metric, value: figure, unit, level, trend: trendText(metric, expected, days) });
  }
}
