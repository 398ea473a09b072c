import { errorToResponse, StoreFillingError } from '../../lib/http/errors';
import { createLokiEventStore } from '../../lib/loki/client';
import {
  type BackfillRequest,
  type BackgroundFill,
  InProcessBackgroundFill,
  LambdaBackgroundFill,
} from '../../lib/rollups/background';
import {
  backlogDecision,
  FILL_MS_PER_DAY,
  neededClosedDays,
  ORGANISATION_LOKI_MS_PER_DAY,
  withBacklogGuard,
} from '../../lib/rollups/backlog';
import { fill, ORGANISATION } from '../../lib/rollups/fill';
import { RollupStore } from '../../lib/rollups/store';
import type { ObjectStore } from '../../lib/store/object-store';
import { DAY_MS } from '../../lib/time';
import { useSampleLokiAndStore } from '../helpers/rollups';

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const days = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i * DAY_MS);

describe('backlogDecision', () => {
  it('reads the missing days itself when they fit the time left', () => {
    const needed = days(0, 100);

    const decision = backlogDecision({
      needed,
      present: new Set(needed.slice(0, 10)),
      remainingMs: 90 * 300,
      msPerDay: 300,
    });

    expect(decision).toEqual({ kind: 'read', missing: 90 });
  });

  it('fills first when more days are missing than the time left reads, saying how far the store is', () => {
    const needed = days(0, 100);

    const decision = backlogDecision({
      needed,
      present: new Set(needed.slice(0, 10)),
      remainingMs: 89 * 300,
      msPerDay: 300,
    });

    expect(decision).toMatchObject({ kind: 'fill-first', present: 10, needed: 100 });
    expect(decision.kind === 'fill-first' && decision.missing).toEqual(needed.slice(10));
    expect(decision.kind === 'fill-first' && decision.etaSeconds).toBe(
      Math.ceil((90 * FILL_MS_PER_DAY) / 1000),
    );
  });

  it('asks again after 5 to 60 seconds whatever is missing', () => {
    const few = backlogDecision({ needed: days(0, 2), present: new Set(), remainingMs: 0, msPerDay: 300 });
    const many = backlogDecision({ needed: days(0, 800), present: new Set(), remainingMs: 0, msPerDay: 300 });

    expect(few.kind === 'fill-first' && few.retryAfterSeconds).toBe(5);
    expect(many.kind === 'fill-first' && many.retryAfterSeconds).toBe(60);
  });

  it('puts a year of the organisation missing from a 27-second request into the background', () => {
    const year = days(0, 365);

    const decision = backlogDecision({
      needed: year,
      present: new Set(),
      remainingMs: 27_000,
      msPerDay: ORGANISATION_LOKI_MS_PER_DAY,
    });

    expect(decision.kind).toBe('fill-first');
  });
});

describe('neededClosedDays', () => {
  it('counts the whole days of the range that have closed, not the parts of days at its ends', () => {
    const range = { start: today - 5 * DAY_MS + 1, end: today };

    expect(neededClosedDays(range, today - DAY_MS / 2)).toEqual(days(today - 4 * DAY_MS, 3));
  });
});

describe('StoreFillingError', () => {
  it('answers 503 with Retry-After and how far the store is, as problem+json', () => {
    const response = errorToResponse(new StoreFillingError(120, 790, 1_540, 60), 'req-1');

    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({
      'Retry-After': '60',
      'Content-Type': expect.stringContaining('application/problem+json'),
    });
    expect(JSON.parse(response.body)).toMatchObject({
      status: 503,
      detail: expect.stringContaining('120 of 790 closed days present'),
      store: { daysPresent: 120, daysNeeded: 790, etaSeconds: 1_540 },
    });
  });
});

class RecordingBackgroundFill implements BackgroundFill {
  readonly started: BackfillRequest[] = [];
  async start(request: BackfillRequest): Promise<void> {
    this.started.push(request);
  }
}

describe('withBacklogGuard', () => {
  const bench = useSampleLokiAndStore({ namespace: 'backlog-guard', seed: 3, days: 45, repositories: 2 });
  const { settings, selectionKey } = bench;
  const range = { start: today - 40 * DAY_MS, end: today - DAY_MS };
  const request = (deadline: number) => ({
    filter: {},
    ranges: { deployments: range, incidents: range, merges: range },
    deadline,
  });
  /** Empties the store (the days a first request wrote through), so the next request misses them all again. */
  const rmStore = async () => {
    for (const key of await bench.rollups.objects.list('')) await bench.rollups.objects.delete(key);
  };

  const guarded = (
    background: BackgroundFill,
    store: RollupStore = bench.rollups,
    /** null: unknown, measured by the guard itself. */
    initialMsPerDay: number | null = ORGANISATION_LOKI_MS_PER_DAY,
  ) =>
    withBacklogGuard(createLokiEventStore({ ...settings, url: bench.loki.url }, { rollups: store }), {
      rollups: store,
      background,
      selectionKey,
      closedAfterMs: settings.closedAfterMs,
      initialMsPerDay: initialMsPerDay === null ? undefined : () => initialMsPerDay,
    });

  it('answers 503 without asking Loki and starts the missing days in the background', async () => {
    const background = new RecordingBackgroundFill();

    const failure = await guarded(background)
      .fetchEvents(request(Date.now() + 2_000))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StoreFillingError);
    expect(failure).toMatchObject({ daysPresent: 0, daysNeeded: 39 });
    expect(background.started).toEqual([
      {
        from: new Date(range.start).toISOString().slice(0, 10),
        to: new Date(range.end - DAY_MS).toISOString().slice(0, 10),
        selection: { name: 'request', filter: {} },
      },
    ]);
    expect(bench.loki.requests).toHaveLength(0);
  });

  it('reads and measures while the cost of a day is unknown, then decides from what it measured', async () => {
    const background = new RecordingBackgroundFill();
    const reader = guarded(background, bench.rollups, null);
    // Each answer takes 500 ms: 39 days in 30-day pieces, about 20 ms a day.
    bench.loki.delayNext(500, 2);

    const first = await reader.fetchEvents(request(Date.now() + 2_000));
    await rmStore();
    const second = await reader.fetchEvents(request(Date.now() + 200)).catch((error: unknown) => error);

    expect(first.stats.days).toMatchObject({ loki: 39 });
    expect(second).toBeInstanceOf(StoreFillingError);
    expect(background.started).toHaveLength(1);
  });

  it('answers 503 instead of the 504 when the cost was unknown and the deadline came first', async () => {
    const background = new RecordingBackgroundFill();
    bench.loki.delayNext(1_500, 2);

    const failure = await guarded(background, bench.rollups, null)
      .fetchEvents(request(Date.now() + 1_000))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StoreFillingError);
    expect(failure).toMatchObject({ daysPresent: 0, daysNeeded: 39 });
    expect(background.started).toHaveLength(1);
  });

  it('reads again after a deadline in which Loki stored nothing, instead of taking the deadline as the cost of a day', async () => {
    const background = new RecordingBackgroundFill();
    const reader = guarded(background, bench.rollups, null);
    bench.loki.delayNext(1_500, 2);
    const stalled = await reader.fetchEvents(request(Date.now() + 1_000)).catch((error: unknown) => error);

    const recovered = await reader.fetchEvents(request(Date.now() + 20_000));

    expect(stalled).toBeInstanceOf(StoreFillingError);
    expect(recovered.stats.days).toMatchObject({ loki: 39 });
    expect(background.started).toHaveLength(1);
  });

  it('reads from Loki when the missing days fit its deadline', async () => {
    const background = new RecordingBackgroundFill();

    const batch = await guarded(background).fetchEvents(request(Date.now() + 20_000));

    expect(batch.stats.days).toMatchObject({ loki: 39 });
    expect(background.started).toHaveLength(0);
  });

  it('answers from the store once a fill has stored the days', async () => {
    const events = createLokiEventStore({ ...settings, url: bench.loki.url }, { rollups: bench.rollups });
    await fill(
      { events, rollups: bench.rollups, selectionKey, closedBefore: Date.now() - settings.closedAfterMs },
      { from: range.start, to: range.end - DAY_MS, selections: [ORGANISATION], concurrency: 2 },
    );
    const background = new RecordingBackgroundFill();

    const batch = await guarded(background).fetchEvents(request(Date.now() + 2_000));

    expect(batch.stats.days).toMatchObject({ store: 39, loki: 0 });
    expect(background.started).toHaveLength(0);
  });

  it('lets the request go on to Loki when the store cannot be listed', async () => {
    const broken: ObjectStore = {
      description: 'broken',
      get: async () => undefined,
      put: async () => {},
      delete: async () => {},
      list: async () => {
        throw new Error('listing refused');
      },
    };
    const background = new RecordingBackgroundFill();

    const batch = await guarded(background, new RollupStore(broken)).fetchEvents(
      request(Date.now() + 20_000),
    );

    expect(batch.deployments.length).toBeGreaterThan(0);
    expect(background.started).toHaveLength(0);
  });
});

describe('background fills', () => {
  it('runs one task per range in this process, however often it is asked', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const background = new InProcessBackgroundFill(async () => {
      runs += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });

    await background.start({ from: '2026-01-01', to: '2026-01-31' });
    await background.start({ from: '2026-01-01', to: '2026-01-31' });
    release();
    await background.idle();
    await background.start({ from: '2026-01-01', to: '2026-01-31' });
    release();
    await background.idle();

    expect(runs).toBe(2);
  });

  it('invokes the backfill function asynchronously with the range as its event', async () => {
    const invocations: Array<[string, string]> = [];
    const background = new LambdaBackgroundFill('dora-api-prod-rollupsBackfill', {
      invokeAsync: async (name, payload) => {
        invocations.push([name, payload]);
      },
    });

    await background.start({ from: '2026-01-01', to: '2026-01-31', chunk: 3 });

    expect(invocations).toEqual([
      ['dora-api-prod-rollupsBackfill', JSON.stringify({ from: '2026-01-01', to: '2026-01-31', chunk: 3 })],
    ]);
  });
});
