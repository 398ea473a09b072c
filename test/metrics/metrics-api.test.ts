import { bucketsOf } from '../../lib/dora/buckets';
import { levelTable } from '../../lib/dora/levels';
import { computeMetric, METRICS, type MetricName, type MetricPoint } from '../../lib/dora/metrics';
import { buildDeployments } from '../../lib/dora/records';
import { previousPeriod, summarize } from '../../lib/dora/summary';
import type { EventBatch, TimeRange } from '../../lib/dora/types';
import { eventsFromEntries } from '../../lib/loki/parse';
import type { LokiEntry } from '../../lib/loki/types';
import { generateSample } from '../../lib/sample/generator';
import { isoDay } from '../../lib/time';
import { useMetricsRoutes } from '../helpers/environment';
import { expectBadRequestNaming, invoke } from '../helpers/lambda';

const DAY = 86_400_000;
const LOOKAROUND = 30 * DAY;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 11, end: END, days: 125, repositories: 5, teams: 2 });
const repositoryNames = [...new Set(sample.entries.map((entry) => entry.labels.vcs_repository_name ?? ''))]
  .filter(Boolean)
  .sort();

// 2026-10-28 .. 2026-11-26 inclusive: 30 days.
const PERIOD = { start_date: '2026-10-28', end_date: '2026-11-26' };
const PERIOD_RANGE: TimeRange = { start: Date.UTC(2026, 9, 28), end: END };

type Kind = keyof EventBatch;

function kindOf(entry: LokiEntry): Kind | undefined {
  if (entry.labels.deployment_status !== undefined) return 'deployments';
  if (entry.labels.event_name?.startsWith('issue_')) return 'incidents';
  if (entry.labels.event_name === 'change_closed') return 'merges';
  return undefined;
}

function entryTime(entry: LokiEntry): number {
  return Number(BigInt(entry.timestampNs) / 1_000_000n);
}

/**
 * What the API must compute from, built straight from the generated entries: the events Loki holds
 * in the ranges the data service asks for, from `loadStart` (the look-around before the period).
 */
const recordsCache = new Map<string, ReturnType<typeof buildRecords>>();

function recordsFrom(loadStart: number, end: number, repositories?: string[]) {
  const key = JSON.stringify([loadStart, end, repositories ?? null]);
  const cached = recordsCache.get(key) ?? buildRecords(loadStart, end, repositories);
  recordsCache.set(key, cached);
  return cached;
}

function buildRecords(loadStart: number, end: number, repositories?: string[]) {
  const ranges: Record<Kind, TimeRange> = {
    deployments: { start: loadStart, end: end + LOOKAROUND },
    incidents: { start: loadStart, end: end + LOOKAROUND },
    merges: { start: loadStart - LOOKAROUND, end },
  };
  const eventsOf = <K extends Kind>(kind: K): EventBatch[K] =>
    eventsFromEntries(
      kind,
      sample.entries.filter((entry) => {
        const time = entryTime(entry);
        return (
          kindOf(entry) === kind &&
          time >= ranges[kind].start &&
          time < ranges[kind].end &&
          (repositories === undefined || repositories.includes(entry.labels.vcs_repository_name ?? ''))
        );
      }),
    )[kind];
  const events: EventBatch = {
    deployments: eventsOf('deployments'),
    incidents: eventsOf('incidents'),
    merges: eventsOf('merges'),
  };
  const deployments = buildDeployments(events, {
    window: { start: loadStart, end },
    productionEnvironments: ['production', 'prod'],
  });
  return { deployments, merges: events.merges };
}

describe('GET /metrics and GET /metrics/summary against a Loki stand-in serving generated events', () => {
  const routes = useMetricsRoutes(sample.entries, { LOOKAROUND_DAYS: '30', LOKI_TIMEOUT_MS: '3000' });

  const getMetrics = (query: Record<string, string>) => invoke(routes.metrics, { path: '/metrics', query });
  const getSummary = (query: Record<string, string>) =>
    invoke(routes.summary, { path: '/metrics/summary', query });

  it.each(METRICS)('answers %s per day as computed from the same records as /data', async (metric) => {
    const expected = computeMetric(metric, {
      ...recordsFrom(PERIOD_RANGE.start - LOOKAROUND, PERIOD_RANGE.end),
      range: PERIOD_RANGE,
      interval: 'daily',
    });

    const response = await getMetrics({ metric, ...PERIOD });

    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);
    expect(response.json).toEqual(expected);
    expect(expected).toHaveLength(30);
    expect(expected.reduce((total, point) => total + point.count, 0)).toBeGreaterThan(0);
  });

  it('answers weekly buckets dated by Monday and one undated element for interval all', async () => {
    const weekly = await getMetrics({ metric: 'deployment_frequency', interval: 'weekly', ...PERIOD });
    const all = await getMetrics({ metric: 'deployment_frequency', interval: 'all', ...PERIOD });

    const weeks = weekly.json as MetricPoint[];
    expect(weeks.map((point) => point.date)).toEqual(
      bucketsOf(PERIOD_RANGE, 'weekly').map((bucket) => bucket.date),
    );
    expect(weeks[0]?.date).toBe('2026-10-26'); // the Monday before 2026-10-28
    const [whole] = all.json as MetricPoint[];
    expect(all.json).toHaveLength(1);
    expect(whole?.date).toBeNull();
    expect(whole?.count).toBe(weeks.reduce((total, point) => total + point.count, 0));
    expect(whole?.value).toBeCloseTo((whole?.count ?? 0) / 30, 10);
  });

  it('accepts Grafana epoch milliseconds from/to as the same period as start_date/end_date', async () => {
    const byDates = await getMetrics({ metric: 'lead_time_for_changes', ...PERIOD });

    const byEpoch = await getMetrics({
      metric: 'lead_time_for_changes',
      from: String(PERIOD_RANGE.start),
      to: String(PERIOD_RANGE.end),
    });

    expect(byEpoch.statusCode).toBe(200);
    expect(byEpoch.json).toEqual(byDates.json);
  });

  it("answers failed_deployment_recovery_time, DORA's current name, as time_to_restore_service", async () => {
    const byOldName = await getMetrics({ metric: 'time_to_restore_service', ...PERIOD });

    const byDoraName = await getMetrics({ metric: 'failed_deployment_recovery_time', ...PERIOD });

    expect(byDoraName.statusCode).toBe(200);
    expect(byDoraName.json).toEqual(byOldName.json);
  });

  it('restricts the metric to the repositories asked for', async () => {
    const chosen = repositoryNames.slice(0, 2);
    const expected = computeMetric('change_failure_rate', {
      ...recordsFrom(PERIOD_RANGE.start - LOOKAROUND, PERIOD_RANGE.end, chosen),
      range: PERIOD_RANGE,
      interval: 'monthly',
    });

    const response = await getMetrics({
      metric: 'change_failure_rate',
      interval: 'monthly',
      repositories: chosen.join(','),
      ...PERIOD,
    });

    expect(response.json).toEqual(expected);
    const everything = await getMetrics({ metric: 'change_failure_rate', interval: 'monthly', ...PERIOD });
    expect(response.json).not.toEqual(everything.json);
  });

  it('treats empty parameters (an empty Grafana variable) as absent', async () => {
    const response = await getMetrics({ metric: 'rework_rate', team: '', repositories: '', ...PERIOD });

    expect(response.statusCode).toBe(200);
  });

  it('defaults to the last 90 days per day, today (UTC) included', async () => {
    const response = await getMetrics({ metric: 'deployment_frequency' });

    const series = response.json as MetricPoint[];
    expect(series).toHaveLength(90);
    expect(series[89]?.date).toBe(isoDay(Date.now()));
  });

  it('summarises the five metrics with levels and the trend against the previous 30 days', async () => {
    const previous = previousPeriod(PERIOD_RANGE);
    const records = recordsFrom(previous.start - LOOKAROUND, PERIOD_RANGE.end);
    const expected = {
      ...summarize({
        current: { ...records, range: PERIOD_RANGE },
        previous: { ...records, range: previous },
        levels: levelTable('dora-2024'),
      }),
      excluded_authors: [],
      excluded_changes: 0,
    };

    const response = await getSummary(PERIOD);

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual(expected);
    expect(response.json).toMatchObject({
      period: { start_date: '2026-10-28', end_date: '2026-11-26' },
      previous_period: { start_date: '2026-09-28', end_date: '2026-10-27' },
      levels_source: 'dora-2024',
      levels_report_year: 2024,
    });
    expect(Object.keys(expected.metrics).sort()).toEqual(
      [...METRICS, 'failed_deployment_recovery_time'].sort(),
    );
    expect(expected.metrics.deployment_frequency.level).not.toBeNull();
  });

  it("keeps every key old clients read, with the same values, beside DORA's current vocabulary", async () => {
    const response = await getSummary(PERIOD);

    const body = response.json as {
      metrics: Record<string, Record<string, unknown>>;
      throughput: Record<string, Record<string, unknown>>;
      instability: Record<string, Record<string, unknown>>;
      levels_thresholds: Record<string, unknown>;
    };
    const oldKeys = [
      'value',
      'unit',
      'count',
      'level',
      'previous_value',
      'previous_count',
      'trend',
      'change_ratio',
      'improved',
    ];
    for (const name of METRICS) {
      for (const key of oldKeys) expect(body.metrics[name]).toHaveProperty(key);
    }
    expect(body.metrics.failed_deployment_recovery_time).toEqual(body.metrics.time_to_restore_service);
    expect(body.levels_thresholds.failed_deployment_recovery_time).toEqual(
      body.levels_thresholds.time_to_restore_service,
    );
    expect(Object.keys(body.throughput)).toEqual([
      'lead_time_for_changes',
      'deployment_frequency',
      'failed_deployment_recovery_time',
    ]);
    expect(Object.keys(body.instability)).toEqual(['change_failure_rate', 'rework_rate']);
    for (const [name, metric] of Object.entries({ ...body.throughput, ...body.instability })) {
      expect(metric).toEqual(body.metrics[name]);
      expect(metric).toMatchObject({
        definition: expect.any(String),
        definition_url: 'https://dora.dev/guides/dora-metrics/',
      });
    }
    expect(body.metrics.time_to_restore_service).toMatchObject({
      dora_name: 'Failed deployment recovery time',
      category: 'throughput',
    });
    expect(body.metrics.rework_rate).toMatchObject({
      dora_name: 'Deployment rework rate',
      category: 'instability',
    });
  });

  it('leaves bot changes out of lead time and says how many when exclude_authors names them', async () => {
    const all = (await getSummary(PERIOD)).json as { metrics: Record<MetricName, { count: number }> };

    const response = await getSummary({ ...PERIOD, exclude_authors: '*[bot]' });

    expect(response.statusCode).toBe(200);
    const withoutBots = response.json as typeof all & {
      excluded_authors: string[];
      excluded_changes: number;
    };
    expect(withoutBots.excluded_authors).toEqual(['*[bot]']);
    expect(withoutBots.excluded_changes).toBeGreaterThan(0);
    expect(withoutBots.metrics.lead_time_for_changes.count).toBeLessThan(
      all.metrics.lead_time_for_changes.count,
    );
    expect(withoutBots.metrics.deployment_frequency.count).toBeLessThan(
      all.metrics.deployment_frequency.count,
    );
  });

  describe('per repository (group_by=repository)', () => {
    type Grouped = {
      metrics: Record<string, Record<string, unknown>>;
      repositories: Array<{
        repository: string;
        attention: { worst_level: string | null; at_worst_level: string[]; open_failures: number };
        metrics: Record<string, Record<string, unknown>>;
      }>;
    };

    it('answers every repository side by side from the same Loki reads as the team view', async () => {
      const before = routes.loki.requests.length;
      const blended = await getSummary({ ...PERIOD, no_cache: 'true' });
      const blendedRequests = routes.loki.requests.length - before;

      const grouped = await getSummary({ ...PERIOD, group_by: 'repository', no_cache: 'true' });
      const groupedRequests = routes.loki.requests.length - before - blendedRequests;

      expect(blendedRequests).toBeGreaterThan(0);
      expect(groupedRequests).toBe(blendedRequests);
      const body = grouped.json as Grouped;
      expect(body.metrics).toEqual((blended.json as Grouped).metrics);
      expect(body.repositories.map((entry) => entry.repository).sort()).toEqual(repositoryNames);
    });

    it("gives each repository the numbers of that repository's own summary, not the blend", async () => {
      const body = (await getSummary({ ...PERIOD, group_by: 'repository' })).json as Grouped;

      for (const entry of body.repositories) {
        const alone = (await getSummary({ ...PERIOD, repositories: entry.repository })).json as Grouped;
        for (const [name, metric] of Object.entries(alone.metrics)) {
          const { dora_name, category, definition, definition_url, ...numbers } = metric;
          expect(entry.metrics[name]).toEqual(numbers);
        }
      }
      const rates = body.repositories.map((entry) => entry.metrics.change_failure_rate?.value);
      expect(new Set(rates).size).toBeGreaterThan(1);
    });

    it('sorts what needs attention first: the worst level, then more metrics at it', async () => {
      const body = (await getSummary({ ...PERIOD, group_by: 'repository' })).json as Grouped;
      const rank = (level: string | null) =>
        level === null ? 4 : ['low', 'medium', 'high', 'elite'].indexOf(level);

      const keys = body.repositories.map((entry) => [
        rank(entry.attention.worst_level),
        -entry.attention.at_worst_level.length,
      ]);

      expect(keys).toEqual([...keys].sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0)));
      for (const entry of body.repositories) {
        for (const name of entry.attention.at_worst_level) {
          expect(entry.metrics[name]?.level).toBe(entry.attention.worst_level);
        }
      }
    });

    it('rejects another grouping naming group_by', async () => {
      const response = await getSummary({ ...PERIOD, group_by: 'team' });

      expectBadRequestNaming(response, 'group_by');
    });
  });

  it.each([
    ['the metric is missing', {}, 'metric'],
    ['the metric is unknown', { metric: 'mttr' }, 'metric'],
    ['the interval is unknown', { metric: 'rework_rate', interval: 'hourly' }, 'interval'],
    ['start_date is not a real date', { metric: 'rework_rate', start_date: '2026-02-30' }, 'start_date'],
    ['end_date is not a date', { metric: 'rework_rate', end_date: '27/11/2026' }, 'end_date'],
    [
      'end_date is before start_date',
      { metric: 'rework_rate', start_date: '2026-11-10', end_date: '2026-11-09' },
      'end_date',
    ],
    [
      'the span is over MAX_RANGE_DAYS',
      { metric: 'rework_rate', start_date: '2023-01-01', end_date: '2026-01-06' },
      'end_date',
    ],
    ['from is not epoch milliseconds', { metric: 'rework_rate', from: 'now-7d' }, 'from'],
    ['to is not after from', { metric: 'rework_rate', from: '1764000000000', to: '1764000000000' }, 'to'],
    [
      'dates and epoch bounds are mixed',
      { metric: 'rework_rate', start_date: '2026-11-01', from: '1764000000000' },
      'from',
    ],
    [
      'a repository name could break out of LogQL',
      { metric: 'rework_rate', repositories: 'a"}' },
      'repositories.0',
    ],
    ['a parameter is unknown', { metric: 'rework_rate', granularity: 'daily' }, 'granularity'],
  ])('returns 400 naming the parameter when %s', async (_case, query, field) => {
    const requestsBefore = routes.loki.requests.length;

    const response = await getMetrics(query);

    expectBadRequestNaming(response, field);
    expect(routes.loki.requests.length).toBe(requestsBefore);
  });

  it('returns 400 naming the parameter for the summary too', async () => {
    const response = await getSummary({ start_date: '2026-11-10', end_date: '2026-11-01' });

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ errors: [expect.objectContaining({ field: 'end_date' })] });
  });
});
