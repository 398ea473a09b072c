import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricPoint } from '../../lib/dora/metrics';
import { generateSample } from '../../lib/sample/generator';
import { useMetricsRoutes } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

/**
 * `exclude_authors` replaces EXCLUDE_AUTHORS when given, and given empty excludes nobody: the same on
 * /metrics, /metrics/summary and the Grafana feed, whose box is always sent.
 */

const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 5, end: END, days: 60, repositories: 4, teams: 2 });
const PERIOD = { start_date: '2026-10-28', end_date: '2026-11-26' };

const dashboard = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../deploy/grafana/dora-dashboard.json'), 'utf8'),
) as { panels: Array<{ type: string; targets?: Array<{ url: string }> }> };
/** The query Grafana sends for the lead-time stat panel, with the box holding `box` and no other filter. */
function grafanaQuery(box: string): Record<string, string> {
  const url = dashboard.panels
    .flatMap((panel) => (panel.type === 'stat' ? (panel.targets ?? []) : []))
    .map((target) => target.url)
    .find((candidate) => candidate.includes('metric=lead_time_for_changes'));
  if (url === undefined) throw new Error('the dashboard has a lead-time stat panel');
  const values: Record<string, string> = {
    api: 'https://dora-api.example.com',
    __from: String(Date.UTC(2026, 9, 28)),
    __to: String(END),
    'team:percentencode': '',
    'repository:csv': '',
    'exclude_authors:percentencode': encodeURIComponent(box),
  };
  // Grafana's `${name}` variables, filled as Grafana fills them.
  const filled = url.replace(/\$\{([\w:]+)\}/g, (_variable, name: string) => values[name] ?? '');
  return Object.fromEntries(new URL(filled).searchParams);
}

describe('exclude_authors with EXCLUDE_AUTHORS=*[bot] set', () => {
  const routes = useMetricsRoutes(sample.entries, { EXCLUDE_AUTHORS: '*[bot]' });

  const excluded = async (query: Record<string, string>) =>
    (await invoke(routes.summary, { path: '/metrics/summary', query: { ...PERIOD, ...query } })).json as {
      excluded_changes: number;
      metrics: { lead_time_for_changes: { count: number } };
    };
  const leadTime = async (query: Record<string, string>) =>
    ((await invoke(routes.metrics, { path: '/metrics', query })).json as MetricPoint[])[0];

  it('applies the setting when the parameter is absent, and replaces it when given', async () => {
    const setting = await excluded({});
    const renovateOnly = await excluded({ exclude_authors: 'renovate*' });

    expect(setting.excluded_changes).toBeGreaterThan(0);
    expect(renovateOnly.excluded_changes).toBeGreaterThan(0);
    expect(renovateOnly.excluded_changes).not.toBe(setting.excluded_changes);
  });

  it('excludes nobody for exclude_authors= (empty), on the summary and on /metrics', async () => {
    const setting = await excluded({});
    const nobody = await excluded({ exclude_authors: '' });

    expect(nobody.excluded_changes).toBe(0);
    expect(nobody.metrics.lead_time_for_changes.count).toBeGreaterThan(
      setting.metrics.lead_time_for_changes.count,
    );
    const metricQuery = { metric: 'lead_time_for_changes', interval: 'all', ...PERIOD };
    expect((await leadTime({ ...metricQuery, exclude_authors: '' }))?.count).toBe(
      nobody.metrics.lead_time_for_changes.count,
    );
    expect((await leadTime(metricQuery))?.count).toBe(setting.metrics.lead_time_for_changes.count);
  });

  it("gives the Grafana feed the same semantics: the box's globs, and nobody when the box is empty", async () => {
    const setting = await excluded({});
    const nobody = await excluded({ exclude_authors: '' });

    const withBots = await leadTime(grafanaQuery(''));
    const withoutBots = await leadTime(grafanaQuery('*[bot]'));

    expect(withBots?.count).toBeGreaterThan(withoutBots?.count ?? 0);
    expect(withBots?.count).toBe(nobody.metrics.lead_time_for_changes.count);
    expect(withoutBots?.count).toBe(setting.metrics.lead_time_for_changes.count);
  });
});
