import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import pLimit from 'p-limit';
import { startLokiServer } from '../../dev/loki-server';
import { parseConfig } from '../../lib/config';
import { dayEntryCollector, lokiSettingsFrom } from '../../lib/loki/client';
import { type DayEvents, emptyDay, eventCount } from '../../lib/loki/day-cache';
import { kindsOf } from '../../lib/loki/logql';
import { compactMonths } from '../../lib/rollups/compact';

import { selectionKeyFor } from '../../lib/rollups/fill-setup';
import { dayKey, encodeDay, RollupStore } from '../../lib/rollups/store';
import { generateEntries } from '../../lib/sample/generator';
import { DAY_MS, isoDay, NS_PER_MS } from '../../lib/time';
import { startS3Server } from '../../test/helpers/s3';
import { lokiRequestKind, s3RequestKind, startCountingProxy } from './counting-proxy';
import { benchEnvironment } from './invocations';
import { BENCH_ORG } from './org';
import {
  BUCKET,
  bundleReadFunctions,
  FUNCTION_MEMORY_MB,
  measureRead,
  readLabel,
  readSteps,
  readsTable,
  type StoreBenchFigures,
  storeContents,
} from './real-rollups';
import { formatBytes, formatCount, formatMs } from './stats';

/**
 * `npm run bench -- --rollups --simulate[=REPOSITORIES]`: the read side of the store of closed days for an
 * organisation no test Loki is loaded with (5,000 repositories unless given). The store's days are written
 * directly: the sample generator's lines become days through the reader's own `dayEntryCollector`, the
 * store's codec encodes them, and they are put into a real s3rver; no Loki, no backfill. The reads are the
 * real-Loki store benchmark's (scripts/bench/real-rollups.ts), each in a new process with the function's
 * heap, against an empty Loki stand-in for the days that are not closed.
 *
 * The lines are generated a window of days at a time, so the simulation never holds more than a window of
 * a large organisation; an incident is never open across two windows, which changes nothing the store
 * reads cost.
 */

/** Days generated (and held) at once. */
const WINDOW_DAYS = 30;
/** Objects put at once. */
const PUT_CONCURRENCY = 16;
/** A year's summary reads the year, the year before it and the look-around before both (LOOKAROUND_DAYS). */
const LOOKAROUND_DAYS = 30;

export interface SimulatedStoreFigures {
  machine: { cores: number; loadAtStart: number[]; loadAtEnd: number[] };
  repositories: number;
  days: number;
  events: number;
  writeMs: number;
  store: { objects: number; bytes: number; monthObjects: number; monthBytes: number };
  /** The reads with one object per day, then after the months were compacted. */
  reads: StoreBenchFigures['reads'];
  compaction: { months: number; ms: number };
  monthReads: StoreBenchFigures['reads'];
  failures: Array<{ label: string; error: string }>;
}

const say = (message: string) => console.log(`[store simulation] ${message}`);

/** The organisation's repositories, and the days of its period (the benchmark's year unless given). */
export async function runSimulatedRollupsBench(organisation: {
  repositories: number;
  days?: number;
}): Promise<{ report: string; figures: SimulatedStoreFigures }> {
  const loadAtStart = loadavg();
  const { repositories } = organisation;
  const options = { ...BENCH_ORG, repositories, days: organisation.days ?? BENCH_ORG.days };
  const serviceNamespace = `bench-sim-${repositories}r`;
  const bundles = bundleReadFunctions();
  const loki = await startLokiServer();
  const s3 = await startS3Server();
  const proxies = {
    loki: await startCountingProxy(loki.url, lokiRequestKind),
    s3: await startCountingProxy(s3.endpoint, s3RequestKind),
  };
  try {
    await s3.createBucket(BUCKET);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...benchEnvironment({ lokiUrl: proxies.loki.url, githubUrl: 'http://127.0.0.1:9' }),
      ...s3.environment,
      AWS_ENDPOINT_URL_S3: proxies.s3.url,
      SERVICE_NAME: serviceNamespace,
      ROLLUPS_URL: `s3://${BUCKET}/rollups`,
      LOOKAROUND_DAYS: String(LOOKAROUND_DAYS),
      // The children's GitHub stand-in serves this organisation's teams (LARGE_ORG reads it).
      BENCH_REPOSITORIES: String(repositories),
      BENCH_DAYS: String(options.days),
    };
    const config = parseConfig(env);
    const selection = selectionKeyFor(config, {});
    const collect = dayEntryCollector(lokiSettingsFrom(config, { lokiToken: undefined }));
    const store = await s3.store(BUCKET, 'rollups');

    const end = options.end;
    const firstWritten = end - (2 * options.days + LOOKAROUND_DAYS + 30) * DAY_MS;
    // Days after the period up to yesterday are read too (a failure restored after the period): empty here.
    const lastClosed = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
    const emptyAfter = Math.max(0, (lastClosed - end) / DAY_MS + 1);
    const totalDays = (end - firstWritten) / DAY_MS + emptyAfter;
    say(
      `${formatCount(repositories)} repositories: writing ${totalDays} days into s3rver, ${WINDOW_DAYS} days at a time...`,
    );
    const started = performance.now();
    const put = pLimit(PUT_CONCURRENCY);
    let events = 0;
    let written = 0;
    const putDays = (days: ReadonlyMap<number, DayEvents>) =>
      Promise.all(
        [...days].map(([dayStart, day]) =>
          put(async () => {
            events += eventCount(day);
            await store.put(dayKey(selection, dayStart), encodeDay(selection, dayStart, day));
            written += 1;
          }),
        ),
      );
    await putDays(
      new Map(Array.from({ length: emptyAfter }, (_, index) => [end + index * DAY_MS, emptyDay()])),
    );
    for (let windowEnd = end; windowEnd > firstWritten; windowEnd -= WINDOW_DAYS * DAY_MS) {
      const windowStart = Math.max(firstWritten, windowEnd - WINDOW_DAYS * DAY_MS);
      const days = new Map<number, DayEvents>();
      for (let day = windowStart; day < windowEnd; day += DAY_MS) days.set(day, emptyDay());
      const stats = { lines: 0, skippedLines: 0 };
      const lines = generateEntries({
        ...options,
        serviceNamespace,
        seed: options.seed + windowEnd / DAY_MS,
        days: (windowEnd - windowStart) / DAY_MS,
        end: windowEnd,
      });
      for (const entry of lines) {
        const dayStart = Math.floor(Number(BigInt(entry.timestampNs) / NS_PER_MS) / DAY_MS) * DAY_MS;
        const day = days.get(dayStart);
        if (day !== undefined) collect(entry, kindsOf(entry.labels), day, stats);
      }
      await putDays(days);
      say(
        `  ${isoDay(windowStart)}..${isoDay(windowEnd - DAY_MS)}: ${written} of ${totalDays} days, ${formatCount(events)} events, ${formatMs(performance.now() - started)}`,
      );
    }
    const writeMs = performance.now() - started;
    const contents = await storeContents(s3);

    const firstDay = isoDay(end - options.days * DAY_MS);
    const lastDay = isoDay(end - DAY_MS);
    const failures: SimulatedStoreFigures['failures'] = [];
    const measureReads = async (layout: string) => {
      const reads: StoreBenchFigures['reads'] = [];
      for (const step of readSteps(firstDay, lastDay, bundles.handlers)) {
        const label = `${readLabel(step)} (${layout})`;
        try {
          const read = await measureRead(env, step, proxies);
          say(
            `  ${label}: cold ${formatMs(read.cold.ms)} (${read.cold.statusCode}, ${read.cold.rollups ?? '-'}), peak RSS ${Math.max(read.cold.maxRssMb, ...read.warm.map((w) => w.maxRssMb)).toFixed(0)} MB`,
          );
          reads.push(read);
        } catch (error) {
          // A child that ran out of its heap is a figure of this benchmark, not the end of it.
          const message = error instanceof Error ? error.message : String(error);
          say(`  ${label}: failed: ${message}`);
          failures.push({ label, error: message });
        }
      }
      return reads;
    };
    say('reads of the days, one object each...');
    const dayReads = await measureReads('days');
    say('compacting the closed months (lib/rollups/compact.ts)...');
    const compactStarted = performance.now();
    const rollups = new RollupStore(store);
    const months = await compactMonths(rollups, selection, {
      range: { start: firstWritten, end: lastClosed + DAY_MS },
      closedBefore: lastClosed + DAY_MS,
    });
    const compactMs = performance.now() - compactStarted;
    say(`  ${months} months in ${formatMs(compactMs)}; reads again...`);
    const monthReads = await measureReads('months');
    const figures: SimulatedStoreFigures = {
      machine: { cores: cpus().length, loadAtStart, loadAtEnd: loadavg() },
      repositories,
      days: totalDays,
      events,
      writeMs,
      store: contents,
      reads: dayReads,
      compaction: { months, ms: compactMs },
      monthReads,
      failures,
    };
    return { report: reportOf(figures), figures };
  } finally {
    rmSync(bundles.dir, { recursive: true, force: true });
    await proxies.loki.close();
    await proxies.s3.close();
    await s3.close();
    await loki.close();
  }
}

function reportOf(figures: SimulatedStoreFigures): string {
  const { machine, repositories, days, events, writeMs, store, reads, compaction, monthReads, failures } =
    figures;
  const perRepositoryYear = store.bytes / repositories / (days / 365);
  return [
    `Store of closed days, simulated: ${formatCount(repositories)} repositories, ${days} days written directly into s3rver (no Loki), ${machine.cores} cores, load average ${machine.loadAtStart[0]?.toFixed(1)} at the start, ${machine.loadAtEnd[0]?.toFixed(1)} at the end; children with a ${FUNCTION_MEMORY_MB} MB function's heap.`,
    '',
    `Written: ${formatCount(events)} events in ${formatCount(store.objects)} objects, ${formatBytes(store.bytes)} (${formatBytes(store.bytes / store.objects)} a day, ${formatBytes(perRepositoryYear)} per repository-year), in ${formatMs(writeMs)}.`,
    '',
    'Reads, one object per day:',
    '',
    reads.length > 0 ? readsTable(reads) : 'No read answered.',
    '',
    `Compacted ${compaction.months} closed months in ${formatMs(compaction.ms)}. Reads again, a month in one object:`,
    '',
    monthReads.length > 0 ? readsTable(monthReads) : 'No read answered.',
    ...failures.map((failure) => `\n${failure.label}: **failed**: ${failure.error}`),
  ].join('\n');
}
