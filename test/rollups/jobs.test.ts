import { createLokiEventStore } from '../../lib/loki/client';
import { emptyDay } from '../../lib/loki/day-cache';
import type { BackfillRequest } from '../../lib/rollups/background';
import { type FillDependencies, presentDays } from '../../lib/rollups/fill';
import {
  BackfillRequestError,
  backfillChunk,
  parseBackfillRequest,
  SCHEDULE_STATE_KEY,
  STOP_STARTING_BEFORE_END_MS,
  scheduledRollup,
} from '../../lib/rollups/jobs';
import { DAY_MS, isoDay } from '../../lib/time';
import { useSampleLokiAndStore } from '../helpers/rollups';

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
describe('the deployed fill jobs', () => {
  const bench = useSampleLokiAndStore({ namespace: 'fill-jobs', seed: 5, days: 20, repositories: 2 });
  const { settings, selectionKey } = bench;
  /** The fill's parts as a function sees them at `closedBefore` (a later run sees more closed days). */
  const depsAt = (closedBefore: number): FillDependencies => ({
    events: createLokiEventStore({ ...settings, url: bench.loki.url }, { rollups: bench.rollups }),
    rollups: bench.rollups,
    selectionKey,
    closedBefore,
  });
  const stored = async () => [...(await presentDays(bench.rollups, selectionKey({})))].sort().map(isoDay);

  describe('scheduledRollup', () => {
    it('rolls up the day that closed last on its first run, then every day closed since', async () => {
      const firstRun = today - 5 * DAY_MS + 3 * 3_600_000;
      const laterRun = firstRun + 3 * DAY_MS;

      await scheduledRollup({ deps: depsAt(firstRun), concurrency: 2, remainingMs: 900_000 });
      const afterFirst = await stored();
      const stateAfterFirst = (await bench.rollups.objects.get(SCHEDULE_STATE_KEY))?.toString();
      await scheduledRollup({ deps: depsAt(laterRun), concurrency: 2, remainingMs: 900_000 });

      expect(afterFirst).toEqual([isoDay(today - 6 * DAY_MS)]);
      expect(stateAfterFirst).toBe(JSON.stringify({ through: isoDay(today - 6 * DAY_MS) }));
      expect(await stored()).toEqual([5, 4, 3, 2].map((ago) => isoDay(today - (ago + 1) * DAY_MS)));
      expect(JSON.parse((await bench.rollups.objects.get(SCHEDULE_STATE_KEY))?.toString() ?? '')).toEqual({
        through: isoDay(today - 3 * DAY_MS),
      });
    });

    it('compacts a complete closed month whose days requests stored, though no fill covered it', async () => {
      const monthStart = Date.UTC(2025, 1, 1);
      for (let day = monthStart; day < Date.UTC(2025, 2, 1); day += DAY_MS)
        await bench.rollups.set(selectionKey({}), day, emptyDay());

      const report = await scheduledRollup({
        deps: depsAt(Date.now()),
        concurrency: 2,
        remainingMs: 900_000,
      });

      expect(await bench.rollups.months(selectionKey({}))).toContain('2025-02');
      expect(report.compactedMonths).toBeGreaterThanOrEqual(1);
    });

    it('starts over from the last closed day when its state is not valid', async () => {
      await bench.rollups.objects.put(SCHEDULE_STATE_KEY, Buffer.from('{"through":"yesterday"}'));

      const report = await scheduledRollup({
        deps: depsAt(Date.now()),
        concurrency: 2,
        remainingMs: 900_000,
      });

      expect(report.total).toBe(1);
    });
  });

  describe('backfillChunk', () => {
    it('fills the whole range when it fits the invocation, handing nothing on', async () => {
      const handedOn: BackfillRequest[] = [];

      const report = await backfillChunk(
        {
          deps: depsAt(Date.now() - settings.closedAfterMs),
          concurrency: 2,
          remainingMs: 900_000,
          background: { start: async (request) => void handedOn.push(request) },
        },
        { from: isoDay(today - 10 * DAY_MS), to: isoDay(today - 3 * DAY_MS) },
      );

      expect(report).toMatchObject({ filled: 8, remaining: 0 });
      expect(handedOn).toEqual([]);
    });

    it('hands what does not fit the invocation to the next one, from the first day left', async () => {
      const handedOn: BackfillRequest[] = [];
      // Each Loki answer takes 400 ms; the invocation may start new days for about a second.
      bench.loki.delayNext(400, 10);

      const report = await backfillChunk(
        {
          deps: depsAt(Date.now() - settings.closedAfterMs),
          concurrency: 1,
          remainingMs: STOP_STARTING_BEFORE_END_MS + 1_000,
          background: { start: async (request) => void handedOn.push(request) },
        },
        { from: isoDay(today - 10 * DAY_MS), to: isoDay(today - 3 * DAY_MS), chunk: 4 },
      );
      const days = await stored();

      expect(report.filled).toBeGreaterThanOrEqual(1);
      expect(report.remaining).toBe(8 - report.filled);
      expect(days).toHaveLength(report.filled);
      expect(handedOn).toEqual([
        {
          from: isoDay(today - (10 - report.filled) * DAY_MS),
          to: isoDay(today - 3 * DAY_MS),
          chunk: 5,
        },
      ]);
    });

    it('refuses an event that is not a range of days', () => {
      expect(() => parseBackfillRequest({ from: '2026-01-01' })).toThrow(BackfillRequestError);
      expect(() => parseBackfillRequest({ from: '2026-01-01', to: '2026-02-30' })).toThrow('not a day');
      expect(parseBackfillRequest({ from: '2026-01-01', to: '2026-01-31' })).toEqual({
        from: '2026-01-01',
        to: '2026-01-31',
      });
    });
  });
});
