import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../../lib/config';
import { DataService } from '../../lib/data/service';
import { createLokiEventStore, lokiSettingsFrom } from '../../lib/loki/client';
import { fill, ORGANISATION } from '../../lib/rollups/fill';
import { fillDependencies, openRollupStore } from '../../lib/rollups/fill-setup';
import { DAY_MS } from '../../lib/time';
import { namespaceFloor } from './floors';
import { BENCH_ORG } from './org';
import { formatCount, formatMs, markdownTable } from './stats';

/**
 * `npm run bench -- --rollups`: filling the store of closed days with the benchmark organisation, and a
 * year's data of the whole organisation read back from it. Beside the fill, its floor: the read path's
 * reader handing over the same days once, without a store. The store is a directory (the `npm start`
 * adapter); S3 adds a round trip per object.
 */
export interface RollupFigures {
  days: number;
  events: number;
  floorMs: number;
  fillMs: number;
  /** The organisation's days of the year: a new reader (cold) and the same one again (warm, memory). */
  coldMs: number;
  warmMs: number;
  coldLokiDays: number;
  coldStoreDays: number;
}

export async function benchRollups(
  env: NodeJS.ProcessEnv,
  days: number,
): Promise<{ figures: RollupFigures; table: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dora-bench-rollups-'));
  try {
    // No deadline here: a busy 30-day piece of the floor may take the stand-in longer than LOKI_TIMEOUT_MS.
    const config = parseConfig({ ...env, ROLLUPS_URL: pathToFileURL(dir).href, LOKI_TIMEOUT_MS: '600000' });
    const rollups = openRollupStore(config);
    if (rollups === undefined) throw new Error('no store');
    const end = BENCH_ORG.end;
    const start = end - days * DAY_MS;
    const year = { start, end };
    const floor = await namespaceFloor(config, year);
    const floorMs = floor.ms;

    const deps = fillDependencies(config, { lokiToken: undefined }, rollups);
    let started = performance.now();
    const report = await fill(deps, {
      from: start,
      to: end - DAY_MS,
      selections: [ORGANISATION],
      concurrency: config.rollupsFill.concurrency,
    });
    const fillMs = performance.now() - started;

    // The read path as a new container has it: the store attached, empty memory. No answer cache, so that
    // the warm reads measure the days kept in memory; never `noCache`, which skips the store as well.
    const service = new DataService({
      events: createLokiEventStore({ ...lokiSettingsFrom(config, { lokiToken: undefined }) }, { rollups }),
      teams: undefined,
      config: { ...config, lookaroundMs: 0, dataCache: { ...config.dataCache, ttlMs: 0 } },
    });
    started = performance.now();
    const cold = await service.loadDeployments(year);
    const coldMs = performance.now() - started;
    started = performance.now();
    await service.loadDeployments(year);
    await service.loadDeployments(year);
    const warmMs = performance.now() - started;

    const figures: RollupFigures = {
      days: report.total,
      events: report.events,
      floorMs,
      fillMs,
      coldMs,
      warmMs,
      coldLokiDays: cold.stats?.days?.loki ?? -1,
      coldStoreDays: cold.stats?.days?.store ?? -1,
    };
    const table = markdownTable(
      ['case', 'time', 'figures'],
      [
        [
          'floor: the reader hands over the days once',
          formatMs(floorMs),
          `${formatCount(floor.events)} events`,
        ],
        [
          `backfill (${config.rollupsFill.concurrency} days at once)`,
          formatMs(fillMs),
          `${report.filled} days, ${formatCount(report.events)} events, ${(report.filled / (fillMs / 1000)).toFixed(2)} days/s, ${(fillMs / floorMs).toFixed(2)}x the floor`,
        ],
        [
          'organisation, all days, new reader (cold)',
          formatMs(coldMs),
          `${figures.coldStoreDays} days from the store, ${figures.coldLokiDays} closed days from Loki`,
        ],
        ['the same again (warm, memory)', formatMs(warmMs / 2), 'median of 2 is not kept: mean of 2'],
      ],
    );
    return { figures, table };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
