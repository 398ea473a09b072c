import { createLokiEventStore } from '../../lib/loki/client';
import type { EventRequest } from '../../lib/loki/types';
import { fill, ORGANISATION } from '../../lib/rollups/fill';
import { formatStatus, storeStatus } from '../../lib/rollups/status';
import { monthKey, RollupStore } from '../../lib/rollups/store';
import type { ObjectStore } from '../../lib/store/object-store';
import { DAY_MS } from '../../lib/time';
import { useSampleLokiAndStore } from '../helpers/rollups';

/**
 * Closed months whose days are all stored are compacted into one object each by the fill, and a request
 * that needs most of a month reads that object instead of its days: the same events, far fewer GETs.
 */

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const monthStart = (epochMs: number, back: number) => {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, 1);
};
/** The two months before this one are complete and closed; the one before them is filled from its 20th. */
const lastMonth = monthStart(today, 1);
const monthBefore = monthStart(today, 2);
const from = monthStart(today, 3) + 19 * DAY_MS;
const yesterday = today - DAY_MS;
const isoMonth = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 7);

/** The object store, counting the GETs of day objects and of month objects. */
function countingGets(objects: ObjectStore) {
  const counts = { days: 0, months: 0 };
  const counted: ObjectStore = {
    description: objects.description,
    get: (key) => {
      if (key.endsWith('.month.bin')) counts.months += 1;
      else counts.days += 1;
      return objects.get(key);
    },
    put: (key, bytes) => objects.put(key, bytes),
    list: (prefix) => objects.list(prefix),
    delete: (key) => objects.delete(key),
  };
  return { counted, counts };
}

describe('months of the store of closed days', () => {
  const bench = useSampleLokiAndStore({ namespace: 'months', seed: 17, days: 130, repositories: 3 });
  const { settings, selectionKey } = bench;
  const closedBefore = () => Date.now() - settings.closedAfterMs;
  const reader = (rollups: RollupStore) =>
    createLokiEventStore({ ...settings, url: bench.loki.url, dayCacheMaxMb: 0 }, { rollups });
  const backfill = (options: { from: number; to: number; rebuild?: boolean }) =>
    fill(
      { events: reader(bench.rollups), rollups: bench.rollups, selectionKey, closedBefore: closedBefore() },
      { ...options, selections: [ORGANISATION], concurrency: 4 },
    );
  const wholeRange: EventRequest = {
    filter: {},
    ranges: {
      deployments: { start: from, end: today },
      incidents: { start: from, end: today },
      merges: { start: from, end: today },
    },
  };

  it('are compacted by a backfill once all their days are stored and closed, and only then', async () => {
    // Act
    const report = await backfill({ from, to: yesterday });

    // Assert: the partly filled first month and the month not closed yet stay days only.
    expect(report.compactedMonths).toBe(2);
    expect(await bench.rollups.months(selectionKey({}))).toEqual([
      isoMonth(monthBefore),
      isoMonth(lastMonth),
    ]);
  });

  it('are shown by status beside their days', async () => {
    // Arrange
    await backfill({ from, to: yesterday });

    // Act
    const status = await storeStatus(bench.rollups.objects);

    // Assert
    const lines = formatStatus(status);
    const lastMonthDays = (monthStart(today, 0) - lastMonth) / DAY_MS;
    expect(lines).toContain(`  ${isoMonth(lastMonth)}  ${lastMonthDays} of ${lastMonthDays} days, compacted`);
    expect(lines.filter((line) => line.endsWith(', compacted'))).toHaveLength(2);
    expect(status.otherObjects).toBe(0);
  });

  it('are not written again by the next fill, and written again when a rebuild rewrote their days', async () => {
    // Arrange
    await backfill({ from, to: yesterday });

    // Act
    const again = await backfill({ from, to: yesterday });
    const rebuilt = await backfill({ from: lastMonth, to: lastMonth + 4 * DAY_MS, rebuild: true });

    // Assert
    expect(again.compactedMonths).toBe(0);
    expect(rebuilt.compactedMonths).toBe(1);
  });

  it('serve a request in one GET a month, with exactly the events its days hold', async () => {
    // Arrange: the same stored days, with and without their months.
    await backfill({ from, to: yesterday });
    const withMonths = countingGets(bench.rollups.objects);
    const selection = selectionKey({});
    const months = (await bench.rollups.months(selection)).length;

    // Act
    const fromMonths = await reader(new RollupStore(withMonths.counted)).fetchEvents(wholeRange);
    for (const month of [monthBefore, lastMonth])
      await bench.rollups.objects.delete(monthKey(selection, month));
    const daysOnly = countingGets(bench.rollups.objects);
    const fromDays = await reader(new RollupStore(daysOnly.counted)).fetchEvents(wholeRange);

    // Assert
    const closedDays = (today - from) / DAY_MS;
    expect(months).toBe(2);
    expect(fromMonths.stats.days).toMatchObject({ store: closedDays, loki: 0 });
    expect(fromDays.stats.days).toMatchObject({ store: closedDays, loki: 0 });
    const compactedDays = (today - monthBefore) / DAY_MS - (today - monthStart(today, 0)) / DAY_MS;
    expect(withMonths.counts.months).toBe(2);
    expect(withMonths.counts.days).toBe(closedDays - compactedDays);
    expect(daysOnly.counts.days).toBe(closedDays);
    const { stats: _months, ...eventsFromMonths } = fromMonths;
    const { stats: _days, ...eventsFromDays } = fromDays;
    expect(eventsFromMonths).toEqual(eventsFromDays);
    expect(eventsFromMonths.deployments.length).toBeGreaterThan(0);
  });

  it("serve a repository's request from the sections its filter keeps, the same events as its days", async () => {
    // Arrange: the namespace's days and months, then one of its repositories asked for.
    await backfill({ from, to: yesterday });
    const selection = selectionKey({});
    const whole = await reader(bench.rollups).fetchEvents(wholeRange);
    const repository = whole.deployments[0]?.repository ?? 'none';
    const oneRepository: EventRequest = { ...wholeRange, filter: { repositories: [repository] } };
    const withMonths = countingGets(bench.rollups.objects);

    // Act
    const fromMonths = await reader(new RollupStore(withMonths.counted)).fetchEvents(oneRepository);
    for (const month of [monthBefore, lastMonth])
      await bench.rollups.objects.delete(monthKey(selection, month));
    const fromDays = await reader(bench.rollups).fetchEvents(oneRepository);

    // Assert
    expect(withMonths.counts.months).toBe(2);
    const closedDays = (today - from) / DAY_MS;
    expect(fromMonths.stats.days).toMatchObject({ store: closedDays, namespace: closedDays, loki: 0 });
    const { stats: _months, ...eventsFromMonths } = fromMonths;
    const { stats: _days, ...eventsFromDays } = fromDays;
    expect(eventsFromMonths).toEqual(eventsFromDays);
    expect(eventsFromMonths.deployments.length).toBeGreaterThan(0);
    expect(eventsFromMonths.deployments.length).toBeLessThan(whole.deployments.length);
    expect(new Set(eventsFromMonths.deployments.map((event) => event.repository))).toEqual(
      new Set([repository]),
    );
  });

  it('are ignored when one does not read back valid, its days then read one by one', async () => {
    // Arrange
    await backfill({ from, to: yesterday });
    const selection = selectionKey({});
    await bench.rollups.objects.put(monthKey(selection, lastMonth), Buffer.from('torn'));
    const gets = countingGets(bench.rollups.objects);

    // Act
    const batch = await reader(new RollupStore(gets.counted)).fetchEvents(wholeRange);

    // Assert
    expect(batch.stats.days).toMatchObject({ store: (today - from) / DAY_MS, loki: 0 });
    const lastMonthDays = (monthStart(today, 0) - lastMonth) / DAY_MS;
    const monthBeforeDays = (lastMonth - monthBefore) / DAY_MS;
    expect(gets.counts.days).toBe((today - from) / DAY_MS - monthBeforeDays);
    expect(lastMonthDays).toBeGreaterThan(27);
  });
});
