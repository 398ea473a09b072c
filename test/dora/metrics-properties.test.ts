import fc from 'fast-check';
import type { Interval } from '../../lib/dora/buckets';
import { computeMetric, METRICS, type MetricPoint } from '../../lib/dora/metrics';
import type { MergeEvent, ProductionDeployment } from '../../lib/dora/types';
import { DAY_MS, deployment, merged } from '../metrics/builders';

const YEAR_2024 = Date.UTC(2024, 0, 1);
const HOUR_MS = 3_600_000;

/** A range starting anywhere in 2024 (not necessarily at midnight), 1 hour to 120 days long. */
const rangeArbitrary = fc
  .record({
    offset: fc.integer({ min: 0, max: 365 * DAY_MS }),
    length: fc.integer({ min: HOUR_MS, max: 120 * DAY_MS }),
  })
  .map(({ offset, length }) => ({ start: YEAR_2024 + offset, end: YEAR_2024 + offset + length }));

/** Times around the range, some before and after it. */
const timeNear = (range: { start: number; end: number }) =>
  fc.integer({ min: range.start - 10 * DAY_MS, max: range.end + 10 * DAY_MS });

const scenarioArbitrary = rangeArbitrary.chain((range) => {
  const repository = fc.constantFrom('api', 'web', 'worker');
  const mergeArbitrary = fc
    .record({ repository, mergedAt: timeNear(range), sha: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f') })
    .map((fields): MergeEvent => merged(fields));
  return fc.array(mergeArbitrary, { maxLength: 40 }).chain((merges) => {
    const deploymentArbitrary = fc
      .record({
        repository,
        createdAt: timeNear(range),
        success: fc.boolean(),
        incident: fc.option(fc.integer({ min: 0, max: 3 * DAY_MS })),
        restoredAfter: fc.option(fc.integer({ min: 1, max: 20 * DAY_MS })),
        fixesFailure: fc.boolean(),
        merge: merges.length > 0 ? fc.option(fc.constantFrom(...merges)) : fc.constant(null),
      })
      .map((fields): ProductionDeployment => {
        const failedAt = !fields.success
          ? fields.createdAt
          : fields.incident === null
            ? null
            : fields.createdAt + fields.incident;
        const fixedAt =
          failedAt === null || fields.restoredAfter === null ? null : failedAt + fields.restoredAfter;
        return deployment({
          repository: fields.repository,
          createdAt: fields.createdAt,
          success: fields.success,
          failedAt,
          fixedAt,
          fixesFailure: fields.fixesFailure,
          merge: fields.merge,
          ...(fields.merge ? { sha: fields.merge.sha, repository: fields.merge.repository } : {}),
        });
      });
    return fc.record({
      range: fc.constant(range),
      merges: fc.constant(merges),
      deployments: fc.array(deploymentArbitrary, { maxLength: 60 }),
    });
  });
});

const INTERVALS: Interval[] = ['daily', 'weekly', 'monthly', 'all'];
const ADDITIVE_KEYS = ['count', 'failed', 'rework', 'open'] as const;

function totals(series: MetricPoint[]): Record<(typeof ADDITIVE_KEYS)[number], number> {
  const sum = (key: (typeof ADDITIVE_KEYS)[number]) =>
    series.reduce((total, point) => total + (point[key] ?? 0), 0);
  return { count: sum('count'), failed: sum('failed'), rework: sum('rework'), open: sum('open') };
}

describe('metric series (properties)', () => {
  it('add up to the same counts whatever the interval', () => {
    fc.assert(
      fc.property(
        scenarioArbitrary,
        fc.constantFrom(...METRICS),
        ({ range, merges, deployments }, metric) => {
          const [whole, ...others] = INTERVALS.slice()
            .reverse()
            .map((interval) => totals(computeMetric(metric, { deployments, merges, range, interval })));
          for (const other of others) expect(other).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cover the range with sorted, contiguous buckets, the frequency days adding up to its length', () => {
    fc.assert(
      fc.property(rangeArbitrary, fc.constantFrom(...INTERVALS), (range, interval) => {
        const series = computeMetric('deployment_frequency', {
          deployments: [],
          merges: [],
          range,
          interval,
        });

        const days = series.reduce((total, point) => total + (point.days ?? 0), 0);
        expect(days).toBeCloseTo((range.end - range.start) / DAY_MS, 6);
        const dates = series.map((point) => point.date ?? '');
        expect(dates).toEqual([...dates].sort());
        expect(new Set(dates).size).toBe(dates.length);
        expect(series.every((point) => point.value === 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never give a negative lead time, and every percentile lies between the extremes', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ range, merges, deployments }) => {
        for (const metric of ['lead_time_for_changes', 'time_to_restore_service'] as const) {
          for (const point of computeMetric(metric, { deployments, merges, range, interval: 'all' })) {
            if (point.value === null) continue;
            expect(point.value).toBeGreaterThanOrEqual(0);
            expect(point.p50 ?? Number.NaN).toBeLessThanOrEqual(point.p75 ?? Number.NaN);
            expect(point.p75 ?? Number.NaN).toBeLessThanOrEqual(point.p90 ?? Number.NaN);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
