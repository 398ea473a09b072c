import type { TimeRange } from '../../lib/dora/types';
import {
  chunksToRead,
  DAY_MS,
  type EventRanges,
  eventRanges,
  FUTURE_MS,
  type PlanSettings,
  planRequest,
  type ReadAsk,
  readPlan,
  recordsPlan,
} from '../../lib/plan/read-plan';

const HOUR = 3_600_000;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const at = (iso: string) => Date.parse(iso);
const days = (count: number) => count * DAY_MS;

/** The defaults: LOOKAROUND_DAYS 30, LOKI_MAX_QUERY_LENGTH 30d, LOKI_CONCURRENCY 4, 50 min + 1 h closing. */
const SETTINGS: PlanSettings = {
  lookaroundMs: days(30),
  maxQueryLengthMs: days(30),
  concurrency: 4,
  closedAfterMs: 50 * 60_000 + HOUR,
};
const NOW = at('2026-12-06T20:40:00Z');
const TODAY = day('2026-12-06');

/** Every kind over the same range. */
const same = (range: TimeRange): EventRanges => ({ deployments: range, incidents: range, merges: range });

describe('the records a route asks for', () => {
  const period = { start: day('2026-09-01'), end: day('2026-12-01') };

  it.each<[string, ReadAsk, TimeRange, number]>([
    [
      '/data: its window, read from a look-around before it',
      { route: 'data', window: period },
      period,
      period.start - days(30),
    ],
    [
      '/metrics: its period and the look-around before it, read from the look-around',
      { route: 'metrics', period },
      { start: period.start - days(30), end: period.end },
      period.start - days(30),
    ],
    [
      '/metrics/summary: the previous period too, read from the look-around before that',
      { route: 'summary', period },
      { start: period.start - days(91) - days(30), end: period.end },
      period.start - days(91) - days(30),
    ],
  ])('%s', (_case, ask, records, readStart) => {
    expect(recordsPlan(ask, SETTINGS.lookaroundMs)).toEqual({ records, readStart });
  });

  it('reads deployments from the read start to a look-around after, incidents from the records on, merges up to their end', () => {
    const records = { start: day('2026-10-01'), end: day('2026-11-01') };

    const ranges = eventRanges(records, day('2026-09-01'), days(30));

    expect(ranges).toEqual({
      deployments: { start: day('2026-09-01'), end: day('2026-12-01') },
      incidents: { start: day('2026-10-01'), end: day('2026-12-01') },
      merges: { start: day('2026-09-01'), end: day('2026-11-01') },
    });
  });
});

describe('what is read from Loki', () => {
  it.each<
    [
      string,
      EventRanges,
      Partial<PlanSettings>,
      { days: number; closed: number; open: TimeRange[]; chunks: TimeRange[] },
    ]
  >([
    [
      'a range shorter than a day, long closed: one open part (only whole days are kept)',
      same({ start: at('2026-10-05T06:00:00Z'), end: at('2026-10-05T18:00:00Z') }),
      {},
      {
        days: 1,
        closed: 0,
        open: [{ start: at('2026-10-05T06:00:00Z'), end: at('2026-10-05T18:00:00Z') }],
        chunks: [{ start: at('2026-10-05T06:00:00Z'), end: at('2026-10-05T18:00:00Z') }],
      },
    ],
    [
      'today: open, and stopped at now + 15 min',
      same({ start: TODAY, end: TODAY + days(31) }),
      {},
      {
        days: 1,
        closed: 0,
        open: [{ start: TODAY, end: NOW + FUTURE_MS }],
        chunks: [{ start: TODAY, end: NOW + FUTURE_MS }],
      },
    ],
    [
      'yesterday and today: yesterday closed (it ended more than 1 h 50 min ago)',
      same({ start: TODAY - DAY_MS, end: TODAY + DAY_MS }),
      {},
      {
        days: 2,
        closed: 1,
        open: [{ start: TODAY, end: NOW + FUTURE_MS }],
        chunks: [{ start: TODAY - DAY_MS, end: NOW + FUTURE_MS }],
      },
    ],
    [
      'yesterday still open while writes may be back-dated into it',
      same({ start: TODAY - DAY_MS, end: TODAY }),
      { closedAfterMs: days(1) },
      {
        days: 1,
        closed: 0,
        open: [{ start: TODAY - DAY_MS, end: TODAY }],
        chunks: [{ start: TODAY - DAY_MS, end: TODAY }],
      },
    ],
    [
      'a range crossing a month from mid-day to mid-day: partial first and last days are open',
      same({ start: at('2026-09-28T12:00:00Z'), end: at('2026-10-03T12:00:00Z') }),
      {},
      {
        days: 6,
        closed: 4,
        open: [
          { start: at('2026-09-28T12:00:00Z'), end: day('2026-09-29') },
          { start: day('2026-10-03'), end: at('2026-10-03T12:00:00Z') },
        ],
        chunks: [{ start: at('2026-09-28T12:00:00Z'), end: at('2026-10-03T12:00:00Z') }],
      },
    ],
    [
      '45 days in 30-day chunks',
      same({ start: day('2026-08-01'), end: day('2026-09-15') }),
      {},
      {
        days: 45,
        closed: 45,
        open: [],
        chunks: [
          { start: day('2026-08-01'), end: day('2026-08-31') },
          { start: day('2026-08-31'), end: day('2026-09-15') },
        ],
      },
    ],
    [
      'max_query_length 0: no limit, one query',
      same({ start: day('2025-08-01'), end: day('2026-09-15') }),
      { maxQueryLengthMs: 0 },
      {
        days: 410,
        closed: 410,
        open: [],
        chunks: [{ start: day('2025-08-01'), end: day('2026-09-15') }],
      },
    ],
    [
      "the union of the kinds' ranges, one query for all",
      {
        deployments: { start: day('2026-10-01'), end: day('2026-10-11') },
        incidents: { start: day('2026-10-05'), end: day('2026-10-21') },
        merges: { start: day('2026-09-25'), end: day('2026-10-02') },
      },
      {},
      { days: 26, closed: 26, open: [], chunks: [{ start: day('2026-09-25'), end: day('2026-10-21') }] },
    ],
  ])('%s', (_case, ranges, settings, expected) => {
    const plan = readPlan(ranges, { ...SETTINGS, ...settings }, NOW);

    expect(plan.days).toHaveLength(expected.days);
    expect(plan.days.filter((part) => part.closed)).toHaveLength(expected.closed);
    expect(plan.open).toEqual(expected.open);
    expect(plan.chunks).toEqual(expected.chunks);
    expect(plan.concurrency).toBe(4);
  });

  it('reads nothing for empty ranges, and leaves out the kinds whose range is empty', () => {
    const empty = { start: day('2026-10-01'), end: day('2026-10-01') };

    const nothing = readPlan(same(empty), SETTINGS, NOW);
    const mergesOnly = readPlan(
      { deployments: empty, incidents: empty, merges: { start: day('2026-10-01'), end: day('2026-10-02') } },
      SETTINGS,
      NOW,
    );
    const future = readPlan(same({ start: TODAY + days(2), end: TODAY + days(3) }), SETTINGS, NOW);

    expect(nothing).toMatchObject({ kinds: [], days: [], chunks: [] });
    expect(mergesOnly).toMatchObject({
      kinds: ['merges'],
      chunks: [{ start: day('2026-10-01'), end: day('2026-10-02') }],
    });
    expect(future).toMatchObject({ days: [], chunks: [] });
  });

  it('reads only the days a cache lacks, joined where consecutive and cut by max_query_length', () => {
    const plan = readPlan(same({ start: day('2026-07-01'), end: day('2026-10-01') }), SETTINGS, NOW);
    // Cached: 2026-07-01 .. 2026-07-10 and 2026-08-01 .. 2026-09-30 (a day cached twice is still one).
    const found = new Set(
      plan.days
        .map((part) => part.dayStart)
        .filter(
          (start) => start < day('2026-07-11') || (start >= day('2026-08-01') && start < day('2026-09-30')),
        ),
    );

    const chunks = chunksToRead(plan, found);

    expect(chunks).toEqual([
      { start: day('2026-07-11'), end: day('2026-08-01') },
      { start: day('2026-09-30'), end: day('2026-10-01') },
    ]);
    expect(chunksToRead(plan, new Set())).toEqual(plan.chunks);
    expect(plan.chunks).toHaveLength(4);
  });

  it('never takes an open day from a cache, even one that holds it', () => {
    const plan = readPlan(same({ start: TODAY - DAY_MS, end: TODAY + DAY_MS }), SETTINGS, NOW);

    const chunks = chunksToRead(plan, new Set([TODAY - DAY_MS, TODAY]));

    expect(chunks).toEqual([{ start: TODAY, end: NOW + FUTURE_MS }]);
  });
});

describe('whole requests with the default settings', () => {
  const year = { start: TODAY - days(364), end: TODAY + DAY_MS };
  const quarter = { start: TODAY - days(89), end: TODAY + DAY_MS };
  const month = { start: TODAY - days(29), end: TODAY + DAY_MS };

  it.each<[string, number, number, ReadAsk]>([
    [
      "a year's summary (365 + 365 days and the look-around before them)",
      760,
      26,
      { route: 'summary', period: year },
    ],
    ['a year of /metrics', 395, 14, { route: 'metrics', period: year }],
    ['a quarter of /metrics', 120, 4, { route: 'metrics', period: quarter }],
    ['30 days of /data ending today', 60, 2, { route: 'data', window: month }],
    [
      '30 days of /data ending long ago (the look-around after it too)',
      90,
      3,
      { route: 'data', window: { start: day('2026-01-01'), end: day('2026-01-31') } },
    ],
  ])('%s reads %i days in %i queries', (_case, dayCount, queries, ask) => {
    const plan = planRequest(ask, SETTINGS, NOW);

    expect(plan.read.days).toHaveLength(dayCount);
    expect(plan.read.chunks).toHaveLength(queries);
    expect(plan.read.chunks.every((chunk) => chunk.end - chunk.start <= SETTINGS.maxQueryLengthMs)).toBe(
      true,
    );
  });
});
