import { fork } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventRequest, EventStore, FetchStats } from '../lib/loki/types';
import { buildForProbe } from './bench/build';
import { type BundleFigures, measureBundles, measureSsmClientLoad, packageFunctions } from './bench/bundles';
import { exited, firstMessage, forkScript, lambdaHeapFlags } from './bench/children';
import { downloadOnly, recordingFetch } from './bench/fetch-tap';
import {
  type BenchCase,
  benchEnvironment,
  bodyText,
  type Handler,
  invokeCase,
  loadHandler,
  type Route,
  SCOPE_LABELS,
  type Scope,
} from './bench/invocations';
import type { MemoryProbeResult } from './bench/memory-probe';
import { BENCH_ORG, LOKI_PAGE_LIMIT } from './bench/org';
import { benchRollups, type RollupFigures } from './bench/rollups';
import { formatBytes, formatCount, formatMs, markdownTable, median, p95 } from './bench/stats';
import type { UpstreamsReady } from './bench/upstreams';

/**
 * `npm run bench`: the API over a generated organisation of 300 repositories and a year of events,
 * served by the Loki stand-in with Loki's paging limit. Prints markdown tables and writes
 * bench-results/latest.json. Options: --runs=N (default 5), --quick (30 and 90 days only, 3 runs),
 * --no-bundles (skip `serverless package` and cold starts), --no-latency, --no-memory,
 * --lambda-memory=256,1024 (function sizes whose V8 heap settings the memory probes copy),
 * --out=FILE (instead of bench-results/latest.json), --rollups (fill the store of closed days and read it back,
 * scripts/bench/rollups.ts). --loki=real: against a real Loki instead (scripts/bench/real.ts); with --rollups, the
 * store of closed days on that Loki and a real S3-compatible server (scripts/bench/real-rollups.ts).
 * --rollups --simulate[=REPOSITORIES]: the store's reads for an organisation written straight into s3rver,
 * 5,000 repositories unless given (scripts/bench/simulated-rollups.ts).
 */

const args = new Set(process.argv.slice(2));
const argValue = (name: string) =>
  process.argv
    .slice(2)
    .find((arg) => arg.startsWith(`--${name}=`))
    ?.split('=')[1];
const QUICK = args.has('--quick');
const RUNS = Number(argValue('runs') ?? (QUICK ? 3 : 5));
/** The year over the whole organisation takes longest: fewer runs (still a median and a p95 of several). */
const RUNS_LONGEST = Math.max(2, Math.min(RUNS, 3));
const WINDOWS = QUICK ? [30, 90] : [30, 90, 365];
const SCOPES: Scope[] = ['repository', 'team', 'organisation'];
const PROJECT_ROOT = path.resolve(__dirname, '..');
const LAMBDA_MEMORY_MB = (argValue('lambda-memory') ?? '256,1024')
  .split(',')
  .map(Number)
  .filter((size) => size >= 128);

interface CaseResult extends BenchCase {
  runs: number;
  statusCodes: number[];
  records: number | undefined;
  responseBytes: number;
  lokiLines: number;
  lokiPages: number;
  lokiRequests: number;
  medianMs: number;
  p95Ms: number;
  /** Main-thread time busy in our code (event-loop utilisation), share of the invocation. */
  ownCodeShare: number;
  /** Summed over concurrent requests, as FetchStats reports it. */
  lokiMsSummed: number;
  /** CPU time of this process (all threads, GC included) per invocation, median: our own processing. */
  cpuMs: number;
  fetchOnlyMedianMs?: number;
  fetchOnlyCpuMs?: number;
  downloadOnlyMedianMs?: number;
}

interface Tap {
  lastRequest: EventRequest | undefined;
  lastStats: FetchStats | undefined;
  fetchEvents: EventStore['fetchEvents'];
}

/** Wraps the store the handlers use (memoised per settings), to learn each invocation's request and stats. */
function tapEventStore(): Tap {
  const { getConfig } = require('../lib/config') as typeof import('../lib/config');
  const { getEventStore } = require('../lib/loki/client') as typeof import('../lib/loki/client');
  const { secretsFrom } = require('../lib/secrets') as typeof import('../lib/secrets');
  const store = getEventStore(getConfig(), secretsFrom(process.env as Parameters<typeof secretsFrom>[0]));
  const original = store.fetchEvents.bind(store);
  const tap: Tap = { lastRequest: undefined, lastStats: undefined, fetchEvents: original };
  store.fetchEvents = async (request) => {
    tap.lastRequest = request;
    const result = await original(request);
    tap.lastStats = result.stats;
    return result;
  };
  return tap;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function withoutDeadline(request: EventRequest): EventRequest {
  const { deadline: _deadline, signal: _signal, ...rest } = request;
  return rest;
}

function recordCount(route: Route, body: string | undefined): number | undefined {
  if (body === undefined || body === '') return undefined;
  const parsed = JSON.parse(body) as { records?: unknown[] } | unknown[];
  if (route === 'data') return (parsed as { records?: unknown[] }).records?.length;
  return Array.isArray(parsed) ? parsed.length : undefined;
}

async function timeCase(handler: Handler, benchCase: BenchCase, tap: Tap, runs: number): Promise<CaseResult> {
  const durations: number[] = [];
  const statusCodes: number[] = [];
  let active = 0;
  let total = 0;
  let records: number | undefined;
  let responseBytes = 0;
  let stats: FetchStats | undefined;
  const cpuTimes: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    const response = await invokeCase(handler, benchCase);
    const duration = performance.now() - startedAt;
    cpuTimes.push(cpuMsSince(cpu));
    const used = performance.eventLoopUtilization(elu);
    durations.push(duration);
    statusCodes.push(response.statusCode);
    active += used.active;
    total += used.active + used.idle;
    stats = tap.lastStats;
    if (run === 0) {
      responseBytes = Buffer.byteLength(response.body ?? '');
      records = response.statusCode === 200 ? recordCount(benchCase.route, bodyText(response)) : undefined;
    }
  }
  return {
    ...benchCase,
    runs,
    statusCodes,
    records,
    responseBytes,
    lokiLines: stats?.lines ?? 0,
    lokiPages: stats?.pages ?? 0,
    lokiRequests: stats?.requests ?? 0,
    medianMs: median(durations),
    p95Ms: p95(durations),
    ownCodeShare: total > 0 ? active / total : Number.NaN,
    lokiMsSummed: stats?.lokiMs ?? 0,
    cpuMs: median(cpuTimes),
  };
}

/** The same Loki work as the last invocation, without building records or answering. */
async function timeFetchOnly(tap: Tap, runs: number, concurrency: number) {
  const request = tap.lastRequest;
  if (request === undefined) throw new Error('no request was captured');
  const fetchTimes: number[] = [];
  const cpuTimes: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    await tap.fetchEvents(withoutDeadline(request));
    fetchTimes.push(performance.now() - startedAt);
    cpuTimes.push(cpuMsSince(cpu));
  }
  const { pages } = await recordingFetch(() => tap.fetchEvents(withoutDeadline(request)));
  const downloadTimes: number[] = [];
  for (let run = 0; run < runs; run += 1) downloadTimes.push(await downloadOnly(pages, concurrency));
  return {
    fetchOnlyMedianMs: median(fetchTimes),
    fetchOnlyCpuMs: median(cpuTimes),
    downloadOnlyMedianMs: median(downloadTimes),
  };
}

async function probeMemory(
  probe: string,
  bundle: string,
  route: Route,
  env: NodeJS.ProcessEnv,
  execArgv: string[] = [],
) {
  const child = fork(probe, [], {
    env: {
      ...env,
      BENCH_PROBE_ROUTE: route,
      BENCH_PROBE_BUNDLE: bundle,
      NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'),
    },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    return await firstMessage<MemoryProbeResult>(child);
  } catch (error) {
    return { route, error: (error as Error).message };
  } finally {
    await exited(child);
  }
}

const pct = (share: number) => (Number.isFinite(share) ? `${Math.round(share * 100)} %` : '-');

/** The report and its figures as JSON, to --out or else to bench-results/`defaultName`. */
function writeFigures(defaultName: string, report: string, figures: unknown): void {
  const out = path.resolve(argValue('out') ?? path.join(PROJECT_ROOT, 'bench-results', defaultName));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), report, figures }, null, 2)}\n`);
  console.log(`Figures: ${path.relative(process.cwd(), out)}`);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const simulate = args.has('--simulate') ? 5000 : argValue('simulate');
  if (args.has('--rollups') && simulate !== undefined) {
    const { runSimulatedRollupsBench } =
      require('./bench/simulated-rollups') as typeof import('./bench/simulated-rollups');
    const { report, figures } = await runSimulatedRollupsBench({ repositories: Number(simulate) });
    console.log(`\n${report}\n\nFinished in ${formatMs(Date.now() - startedAt)}.`);
    writeFigures('simulated-rollups.json', report, figures);
    return;
  }
  if (argValue('loki') === 'real' && args.has('--rollups')) {
    const { runRealRollupsBench } = require('./bench/real-rollups') as typeof import('./bench/real-rollups');
    const { report, figures } = await runRealRollupsBench();
    console.log(`\n${report}\n\nFinished in ${formatMs(Date.now() - startedAt)}.`);
    writeFigures('real-rollups.json', report, figures);
    return;
  }
  if (argValue('loki') === 'real') {
    // require: the real-Loki run needs none of the stand-in benchmark's modules, nor it of this one.
    const { runRealLokiBench } = require('./bench/real') as typeof import('./bench/real');
    const report = await runRealLokiBench({ lookaroundDays: Number(process.env.LOOKAROUND_DAYS ?? 30) });
    console.log(`\n${report}\n\nFinished in ${formatMs(Date.now() - startedAt)}.`);
    const out = argValue('out');
    if (out) writeFileSync(path.resolve(out), `${report}\n`);
    return;
  }
  console.log(
    `Benchmark on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(
    `Generating ${BENCH_ORG.repositories} repositories x ${BENCH_ORG.days} days and starting the stand-ins...`,
  );
  const upstreams = forkScript('upstreams.ts');
  const ready = await firstMessage<UpstreamsReady>(upstreams);
  try {
    console.log(
      `Generated ${formatCount(ready.counts.entries)} Loki lines in ${formatMs(ready.generateMs)} ` +
        `(${formatCount(ready.counts.productionDeployments)} production deployments, ${formatCount(ready.counts.deployments)} deployments in all environments, ` +
        `${formatCount(ready.counts.merges)} merges, ${formatCount(ready.counts.incidents)} incidents); loaded into the Loki stand-in in ${formatMs(ready.loadMs)}`,
    );

    const env = benchEnvironment(ready);
    Object.assign(process.env, env);
    // require, like the handlers (see loadHandler): one module graph, read after the environment is set.
    const { getConfig } = require('../lib/config') as typeof import('../lib/config');
    const concurrency = getConfig().loki.concurrency;
    const handlers: Record<Route, Handler | undefined> = {
      data: loadHandler('data'),
      metrics: loadHandler('metrics'),
    };
    const notes: string[] = [];
    if (!handlers.metrics) notes.push('functions/metrics.ts is absent: GET /metrics was not measured.');
    const tap = tapEventStore();

    // Warm-up: module initialisation, JIT and the GitHub team directory are not what the table measures.
    if (handlers.data) await invokeCase(handlers.data, { route: 'data', days: 30, scope: 'team' });
    if (handlers.metrics) await invokeCase(handlers.metrics, { route: 'metrics', days: 30, scope: 'team' });

    const results: CaseResult[] = [];
    for (const route of args.has('--no-latency') ? [] : (['data', 'metrics'] as const)) {
      const handler = handlers[route];
      if (!handler) continue;
      for (const days of WINDOWS) {
        for (const scope of SCOPES) {
          const benchCase: BenchCase = { route, days, scope };
          const runs = days >= 365 && scope === 'organisation' ? RUNS_LONGEST : RUNS;
          const result = await timeCase(handler, benchCase, tap, runs);
          if (route === 'data') {
            const baseline = await timeFetchOnly(tap, runs, concurrency);
            result.fetchOnlyMedianMs = baseline.fetchOnlyMedianMs;
            result.fetchOnlyCpuMs = baseline.fetchOnlyCpuMs;
            result.downloadOnlyMedianMs = baseline.downloadOnlyMedianMs;
          }
          results.push(result);
          console.log(
            `  ${route} ${days} d ${scope}: median ${formatMs(result.medianMs)}, p95 ${formatMs(result.p95Ms)}` +
              (result.fetchOnlyMedianMs ? `, fetch only ${formatMs(result.fetchOnlyMedianMs)}` : '') +
              ` (status ${[...new Set(result.statusCodes)].join('/')})`,
          );
        }
      }
    }

    let rollupsTable: string | undefined;
    let rollupFigures: RollupFigures | undefined;
    if (args.has('--rollups')) {
      console.log('Filling the store of closed days and reading it back (--rollups)...');
      ({ table: rollupsTable, figures: rollupFigures } = await benchRollups(
        process.env,
        QUICK ? 30 : BENCH_ORG.days,
      ));
    }

    const measuredRoutes = args.has('--no-memory')
      ? []
      : (['data', 'metrics'] as const).filter((route) => handlers[route]);
    if (measuredRoutes.length > 0) console.log('Measuring peak memory in fresh processes...');
    const built = buildForProbe(measuredRoutes);
    const memory = [];
    try {
      for (const route of measuredRoutes) {
        const bundle = built.handlers[route] as string;
        memory.push({
          limit: 'Node defaults',
          memoryMb: undefined,
          ...(await probeMemory(built.probe, bundle, route, process.env)),
        });
        // V8 collects sooner with less memory: Lambda's own heap settings show whether a size fits.
        for (const memoryMb of LAMBDA_MEMORY_MB) {
          memory.push({
            limit: `Lambda ${memoryMb} MB (${lambdaHeapFlags(memoryMb).join(' ')})`,
            memoryMb,
            ...(await probeMemory(built.probe, bundle, route, process.env, lambdaHeapFlags(memoryMb))),
          });
        }
      }
    } finally {
      rmSync(built.dir, { recursive: true, force: true });
    }

    let bundles: BundleFigures[] = [];
    let ssmClientLoadMs: number | undefined;
    if (!args.has('--no-bundles')) {
      console.log('Packaging the functions (serverless package) and timing cold initialisation...');
      const packageDir = packageFunctions();
      try {
        bundles = measureBundles(packageDir, 5);
      } finally {
        rmSync(packageDir, { recursive: true, force: true });
      }
      ssmClientLoadMs = measureSsmClientLoad(5);
    }

    // ---------------------------------------------------------------------------------------------
    // report
    const latencyRows = results.map((result) => [
      result.route === 'data' ? 'POST /data' : 'GET /metrics',
      `${result.days} d`,
      SCOPE_LABELS[result.scope],
      result.records === undefined ? '-' : formatCount(result.records),
      formatCount(result.lokiLines),
      String(result.lokiPages),
      formatMs(result.medianMs),
      formatMs(result.p95Ms),
      result.fetchOnlyMedianMs === undefined ? '-' : formatMs(result.fetchOnlyMedianMs),
      result.fetchOnlyMedianMs === undefined
        ? '-'
        : `${(result.medianMs / result.fetchOnlyMedianMs).toFixed(2)}x`,
      result.downloadOnlyMedianMs === undefined ? '-' : formatMs(result.downloadOnlyMedianMs),
      pct(result.ownCodeShare),
      formatBytes(result.responseBytes),
      `${[...new Set(result.statusCodes)].join('/')} x${result.runs}`,
    ]);
    const latencyTable = markdownTable(
      [
        'route',
        'window',
        'scope',
        'records/buckets',
        'Loki lines',
        'pages',
        'median',
        'p95',
        'fetch only',
        'vs fetch',
        'download only',
        'own code',
        'response (as sent)',
        'status x runs',
      ],
      latencyRows,
    );

    // Our own processing: CPU time of this process (the stand-ins run elsewhere) per Loki line read.
    const perCpuSecond = (lines: number, cpuMs: number | undefined) =>
      cpuMs === undefined || cpuMs <= 0 ? '-' : formatCount(lines / (cpuMs / 1000));
    const throughputRows = results
      .filter((result) => result.route === 'data' && result.lokiLines > 0)
      .map((result) => [
        `${result.days} d`,
        SCOPE_LABELS[result.scope],
        formatCount(result.lokiLines),
        result.fetchOnlyCpuMs === undefined ? '-' : formatMs(result.fetchOnlyCpuMs),
        perCpuSecond(result.lokiLines, result.fetchOnlyCpuMs),
        formatMs(result.cpuMs),
        result.statusCodes.every((status) => status === 200)
          ? perCpuSecond(result.lokiLines, result.cpuMs)
          : `(${[...new Set(result.statusCodes)].join('/')})`,
      ]);
    const throughputTable = markdownTable(
      [
        'window',
        'scope',
        'Loki lines',
        'CPU: fetch only',
        'lines/CPU-s: Loki -> events',
        'CPU: POST /data',
        'lines/CPU-s: Loki -> JSON answer',
      ],
      throughputRows,
    );

    const memoryTable = markdownTable(
      [
        'route (365 d, organisation)',
        'V8 heap settings',
        'status',
        'RSS after init',
        'peak RSS',
        'within the function size',
        'response',
        'time',
      ],
      memory.map((probe) =>
        'error' in probe
          ? [probe.route, probe.limit, `failed: ${probe.error}`, '-', '-', '-', '-', '-']
          : [
              probe.route,
              probe.limit,
              String(probe.statusCode),
              formatBytes(probe.rssAfterInitBytes),
              formatBytes(probe.peakRssBytes),
              // Lambda's sizes are binary: "256 MB" is 256 MiB.
              probe.memoryMb === undefined
                ? '-'
                : probe.peakRssBytes <= probe.memoryMb * 1024 * 1024
                  ? 'yes'
                  : '**no**',
              formatBytes(probe.responseBytes),
              formatMs(probe.durationMs),
            ],
      ),
    );

    const bundleTable = bundles.length
      ? markdownTable(
          ['function', 'zip', 'handler .js', 'cold init (require)', 'cold init with --enable-source-maps'],
          bundles.map((bundle) => [
            bundle.name,
            formatBytes(bundle.zipBytes),
            formatBytes(bundle.jsBytes),
            formatMs(bundle.coldInitMs),
            formatMs(bundle.coldInitWithSourceMapsMs),
          ]),
        )
      : '(skipped)';
    const ssmNote =
      ssmClientLoadMs === undefined
        ? ''
        : `The first request that reads secrets from SSM (every function but health and openapi) also loads @aws-sdk/client-ssm: ${formatMs(ssmClientLoadMs)}.`;

    const generation = `Organisation: ${BENCH_ORG.repositories} repositories, ${BENCH_ORG.teams} teams, ${BENCH_ORG.days} days; ${formatCount(ready.counts.entries)} Loki lines (${formatCount(ready.counts.productionDeployments)} production deployments) generated in ${formatMs(ready.generateMs)}. Loki stand-in page limit ${LOKI_PAGE_LIMIT}, client concurrency ${concurrency}.`;
    const report = [
      generation,
      '',
      '### Latency (no_cache=true; "own code" = main-thread busy share of the invocation)',
      latencyTable,
      '',
      '### Processing throughput (CPU time of the API process; medians)',
      throughputTable,
      '',
      '### Peak memory of one invocation (fresh process, stand-ins in another process)',
      memoryTable,
      '',
      '### Bundles',
      bundleTable,
      ...(rollupsTable
        ? ['', '### Store of closed days (--rollups; directory store, Loki stand-in)', rollupsTable]
        : []),
      ...(ssmNote ? ['', ssmNote] : []),
      ...(notes.length ? ['', ...notes] : []),
      '',
      `Finished in ${formatMs(Date.now() - startedAt)}; load average at the end ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}.`,
    ].join('\n');
    console.log(`\n${report}`);

    const resultsFile = path.resolve(
      argValue('out') ?? path.join(PROJECT_ROOT, 'bench-results', 'latest.json'),
    );
    mkdirSync(path.dirname(resultsFile), { recursive: true });
    writeFileSync(
      resultsFile,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg: loadavg() },
          organisation: { ...BENCH_ORG, counts: ready.counts, generateMs: ready.generateMs },
          latency: results,
          memory,
          bundles,
          ssmClientLoadMs,
          ...(rollupFigures ? { rollups: rollupFigures } : {}),
          notes,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nWritten to ${path.relative(process.cwd(), resultsFile)}`);
  } finally {
    upstreams.disconnect();
    await exited(upstreams);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
