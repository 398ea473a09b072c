import { bucketIndexOf, bucketsOf } from '../../lib/dora/buckets';
import { computeMetric, deliveries } from '../../lib/dora/metrics';
import { percentile } from '../../lib/dora/percentiles';
import { at, DAY_MS, deployment, deploymentOf, HOUR_S, merged } from '../metrics/builders';

// 2024-09-02 is a Monday.
const threeDays = { start: at('2024-09-02T00:00'), end: at('2024-09-05T00:00') };

describe('buckets', () => {
  it('gives one daily bucket per day of the range, dated by its day', () => {
    const buckets = bucketsOf(threeDays, 'daily');

    expect(buckets.map((bucket) => bucket.date)).toEqual(['2024-09-02', '2024-09-03', '2024-09-04']);
  });

  it('dates weekly buckets by their ISO Monday and clips the first and last week to the range', () => {
    // Wednesday 2024-09-04 to Tuesday 2024-09-17 inclusive.
    const buckets = bucketsOf({ start: at('2024-09-04T00:00'), end: at('2024-09-18T00:00') }, 'weekly');

    expect(buckets).toEqual([
      { date: '2024-09-02', start: at('2024-09-04T00:00'), end: at('2024-09-09T00:00') },
      { date: '2024-09-09', start: at('2024-09-09T00:00'), end: at('2024-09-16T00:00') },
      { date: '2024-09-16', start: at('2024-09-16T00:00'), end: at('2024-09-18T00:00') },
    ]);
  });

  it('keeps an ISO week that spans the new year in one bucket', () => {
    const buckets = bucketsOf({ start: at('2025-01-01T00:00'), end: at('2025-01-08T00:00') }, 'weekly');

    expect(buckets.map((bucket) => bucket.date)).toEqual(['2024-12-30', '2025-01-06']);
  });

  it('dates monthly buckets by the first of the month, with February of a leap year whole', () => {
    const buckets = bucketsOf({ start: at('2024-01-15T00:00'), end: at('2024-03-10T00:00') }, 'monthly');

    expect(buckets.map((bucket) => [bucket.date, (bucket.end - bucket.start) / DAY_MS])).toEqual([
      ['2024-01-01', 17],
      ['2024-02-01', 29],
      ['2024-03-01', 9],
    ]);
  });

  it('gives one undated bucket for interval all', () => {
    expect(bucketsOf(threeDays, 'all')).toEqual([{ date: null, ...threeDays }]);
  });

  it('puts an instant on a boundary in the later bucket and leaves the range end out', () => {
    const buckets = bucketsOf(threeDays, 'daily');

    expect(bucketIndexOf(buckets, at('2024-09-03T00:00'))).toBe(1);
    expect(bucketIndexOf(buckets, at('2024-09-02T23:59:59.999'))).toBe(0);
    expect(bucketIndexOf(buckets, threeDays.end)).toBe(-1);
    expect(bucketIndexOf(buckets, threeDays.start - 1)).toBe(-1);
  });
});

describe('percentile (linear interpolation between closest ranks)', () => {
  it('interpolates between ranks and takes the mean of the middle pair as median', () => {
    const sorted = [1, 2, 3, 4];

    expect(percentile(sorted, 0.5)).toBe(2.5);
    expect(percentile(sorted, 0.75)).toBeCloseTo(3.25, 10);
    expect(percentile(sorted, 0.9)).toBeCloseTo(3.7, 10);
  });

  it('answers the only value for one value and null for none', () => {
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('deployment_frequency', () => {
  it('counts successful deployments per day, with 0 for a day without any', () => {
    const deployments = [
      deployment({ createdAt: at('2024-09-02T09:00') }),
      deployment({ createdAt: at('2024-09-02T15:00') }),
      deployment({ createdAt: at('2024-09-02T16:00'), success: false, failedAt: at('2024-09-02T16:00') }),
      deployment({ createdAt: at('2024-09-04T10:00') }),
    ];

    const series = computeMetric('deployment_frequency', {
      deployments,
      merges: [],
      range: threeDays,
      interval: 'daily',
    });

    expect(series).toEqual([
      { date: '2024-09-02', value: 2, count: 2, days: 1 },
      { date: '2024-09-03', value: 0, count: 0, days: 1 },
      { date: '2024-09-04', value: 1, count: 1, days: 1 },
    ]);
  });

  it('divides by the days of a week that lie inside the range', () => {
    const range = { start: at('2024-09-04T00:00'), end: at('2024-09-18T00:00') };
    const deployments = [
      deployment({ createdAt: at('2024-09-05T10:00') }),
      deployment({ createdAt: at('2024-09-10T10:00') }),
      deployment({ createdAt: at('2024-09-16T10:00') }),
      deployment({ createdAt: at('2024-09-17T10:00') }),
      deployment({ createdAt: at('2024-09-03T10:00') }), // before the range
    ];

    const series = computeMetric('deployment_frequency', {
      deployments,
      merges: [],
      range,
      interval: 'weekly',
    });

    expect(series.map((point) => [point.date, point.count, point.days, point.value])).toEqual([
      ['2024-09-02', 1, 5, 1 / 5],
      ['2024-09-09', 1, 7, 1 / 7],
      ['2024-09-16', 2, 2, 1],
    ]);
  });
});

describe('change_failure_rate', () => {
  it('divides failed deployments (failed status or incident) by all deployments, null when none', () => {
    const deployments = [
      deployment({ createdAt: at('2024-09-02T09:00') }),
      deployment({ createdAt: at('2024-09-02T10:00'), success: false, failedAt: at('2024-09-02T10:00') }),
      deployment({ createdAt: at('2024-09-02T11:00'), failedAt: at('2024-09-02T13:00') }), // incident
      deployment({ createdAt: at('2024-09-02T14:00'), fixesFailure: true }),
      deployment({ createdAt: at('2024-09-04T14:00') }),
    ];

    const series = computeMetric('change_failure_rate', {
      deployments,
      merges: [],
      range: threeDays,
      interval: 'daily',
    });

    expect(series).toEqual([
      { date: '2024-09-02', value: 0.5, count: 4, failed: 2 },
      { date: '2024-09-03', value: null, count: 0, failed: 0 },
      { date: '2024-09-04', value: 0, count: 1, failed: 0 },
    ]);
  });
});

describe('rework_rate', () => {
  it('divides deployments that fixed a failure by all deployments', () => {
    const deployments = [
      deployment({ createdAt: at('2024-09-02T10:00'), success: false, failedAt: at('2024-09-02T10:00') }),
      deployment({ createdAt: at('2024-09-02T11:00'), fixesFailure: true }),
      deployment({ createdAt: at('2024-09-02T12:00') }),
      deployment({ createdAt: at('2024-09-02T13:00') }),
    ];

    const [point] = computeMetric('rework_rate', {
      deployments,
      merges: [],
      range: threeDays,
      interval: 'all',
    });

    expect(point).toEqual({ date: null, value: 0.25, count: 4, rework: 1 });
  });
});

describe('time_to_restore_service', () => {
  it('counts a failure in the bucket where it was fixed and one never fixed as open where it began', () => {
    const deployments = [
      // Failed on Monday, fixed on Wednesday: 50 hours, in Wednesday's bucket.
      deployment({
        createdAt: at('2024-09-02T10:00'),
        success: false,
        failedAt: at('2024-09-02T10:00'),
        fixedAt: at('2024-09-04T12:00'),
      }),
      // Failed on Tuesday, still open.
      deployment({ createdAt: at('2024-09-03T08:00'), failedAt: at('2024-09-03T09:00') }),
      // Failed on Wednesday, fixed after the range: open at the end of the range.
      deployment({
        createdAt: at('2024-09-04T20:00'),
        success: false,
        failedAt: at('2024-09-04T20:00'),
        fixedAt: at('2024-09-05T02:00'),
      }),
      // Failed before the range, fixed on Wednesday after 2 hours.
      deployment({
        createdAt: at('2024-09-01T23:00'),
        success: false,
        failedAt: at('2024-09-04T10:00'),
        fixedAt: at('2024-09-04T12:00'),
      }),
    ];

    const series = computeMetric('time_to_restore_service', {
      deployments,
      merges: [],
      range: threeDays,
      interval: 'daily',
    });

    const empty = { value: null, count: 0, p50: null, p75: null, p90: null };
    expect(series).toEqual([
      { date: '2024-09-02', ...empty, open: 0 },
      { date: '2024-09-03', ...empty, open: 1 },
      {
        date: '2024-09-04',
        value: 26 * HOUR_S,
        count: 2,
        p50: 26 * HOUR_S,
        p75: 38 * HOUR_S,
        p90: 45.2 * HOUR_S,
        open: 1,
      },
    ]);
  });
});

describe('lead_time_for_changes', () => {
  const range = threeDays;

  function leadTimes(deployments: ReturnType<typeof deployment>[], merges: ReturnType<typeof merged>[]) {
    return computeMetric('lead_time_for_changes', { deployments, merges, range, interval: 'daily' });
  }

  it('measures merge to the deployment of its merge commit', () => {
    const pr = merged({ sha: 'a', mergedAt: at('2024-09-02T09:00') });

    const [monday] = leadTimes([deploymentOf(pr, at('2024-09-02T10:00'))], [pr]);

    expect(monday).toMatchObject({ date: '2024-09-02', value: HOUR_S, count: 1 });
  });

  it('counts a pull request shipped by a later deployment of another pull request', () => {
    const first = merged({ sha: 'b', mergedAt: at('2024-09-02T11:00') });
    const second = merged({ sha: 'c', mergedAt: at('2024-09-02T12:00') });

    const series = leadTimes([deploymentOf(second, at('2024-09-03T10:00'))], [first, second]);

    expect(series[0]).toMatchObject({ value: null, count: 0 });
    expect(series[1]).toMatchObject({
      date: '2024-09-03',
      count: 2,
      value: 22.5 * HOUR_S,
      p50: 22.5 * HOUR_S,
      p75: 22.75 * HOUR_S,
      p90: 22.9 * HOUR_S,
    });
  });

  it('counts a pull request merged before the range and delivered inside it', () => {
    const early = merged({ sha: 'e', mergedAt: at('2024-08-30T12:00') });

    const series = leadTimes([deploymentOf(early, at('2024-09-02T12:00'))], [early]);

    expect(series[0]).toMatchObject({ value: 72 * HOUR_S, count: 1 });
  });

  it('leaves out a pull request delivered before the range even when a later deployment is inside it', () => {
    const early = merged({ sha: 'e', mergedAt: at('2024-08-30T12:00') });
    const deployments = [
      deploymentOf(early, at('2024-08-31T12:00')),
      deployment({ createdAt: at('2024-09-02T12:00') }), // direct push: ships everything merged before it
    ];

    const series = leadTimes(deployments, [early]);

    expect(series.map((point) => point.count)).toEqual([0, 0, 0]);
  });

  it('is shipped by a direct push deployed after the merge', () => {
    const pr = merged({ sha: 'p', mergedAt: at('2024-09-02T08:00') });

    const [monday] = leadTimes([deployment({ sha: 'hotfix', createdAt: at('2024-09-02T14:00') })], [pr]);

    expect(monday).toMatchObject({ value: 6 * HOUR_S, count: 1 });
  });

  it('is not shipped by a failed deployment nor by a rollback to an older commit', () => {
    const old = merged({ sha: 'old', mergedAt: at('2024-09-01T08:00') });
    const pr = merged({ sha: 'new', mergedAt: at('2024-09-02T08:00') });
    const deployments = [
      deploymentOf(old, at('2024-09-01T09:00')),
      deploymentOf(pr, at('2024-09-02T09:00'), { success: false, failedAt: at('2024-09-02T09:00') }),
      deploymentOf(old, at('2024-09-02T10:00')), // rollback
      deploymentOf(pr, at('2024-09-03T08:00')),
    ];

    const series = leadTimes(deployments, [old, pr]);

    expect(series.map((point) => [point.count, point.value])).toEqual([
      [0, null],
      [1, 24 * HOUR_S],
      [0, null],
    ]);
  });

  it('is not shipped by a deployment of another repository, and a repeated merge event counts once', () => {
    const pr = merged({ sha: 'x', mergedAt: at('2024-09-02T08:00') });
    const deployments = [
      deployment({ repository: 'other', createdAt: at('2024-09-02T09:00') }),
      deploymentOf(pr, at('2024-09-02T10:00')),
    ];

    const [monday] = leadTimes(deployments, [pr, { ...pr }]);

    expect(monday).toMatchObject({ value: 2 * HOUR_S, count: 1 });
  });

  it('takes the median of a week over the pull requests themselves, not over daily medians', () => {
    const monday = merged({ sha: 'm', mergedAt: at('2024-09-02T09:00') });
    const tuesdays = [22, 23, 24].map((hours, index) =>
      merged({ sha: `t${index}`, mergedAt: at('2024-09-03T10:00') - hours * HOUR_S * 1000 }),
    );
    const deployments = [
      deploymentOf(monday, at('2024-09-02T10:00')),
      deployment({ sha: 'release', createdAt: at('2024-09-03T10:00') }),
    ];

    const [week] = computeMetric('lead_time_for_changes', {
      deployments,
      merges: [monday, ...tuesdays],
      range,
      interval: 'weekly',
    });

    // Raw lead times 1, 22, 23, 24 hours: median 22.5 h (daily medians 1 h and 23 h would give 12 h).
    expect(week).toMatchObject({ date: '2024-09-02', count: 4, value: 22.5 * HOUR_S });
  });

  it('finds deliveries in one pass for many deployments and merges', () => {
    const count = 100_000;
    const start = at('2024-01-01T00:00');
    const merges = Array.from({ length: count }, (_, index) =>
      merged({ repository: `r${index % 50}`, sha: `m${index}`, mergedAt: start + index * 60_000 }),
    );
    const deployments = merges.map((pr, index) =>
      deploymentOf(pr, pr.mergedAt + ((index * 7919) % 600) * 1000),
    );

    const found = deliveries(deployments, merges);

    expect(found).toHaveLength(count);
    expect(found.every((delivery) => delivery.deliveredAt >= delivery.mergedAt)).toBe(true);
  });
});
