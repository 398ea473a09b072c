import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { loadIntoLoki, type RealLoki, startRealLoki, waitUntilReady } from '../../dev/real-loki';

import { generateEntries } from '../../lib/sample/generator';
import { DAY_MS, isoDay } from '../../lib/time';
import { startS3Server } from '../../test/helpers/s3';
import { buildForProbe } from './build';
import { exited, forkScript, lambdaHeapFlags } from './children';
import {
  type CountingProxy,
  lokiRequestKind,
  type ProxyCounts,
  s3RequestKind,
  startCountingProxy,
} from './counting-proxy';
import { benchEnvironment } from './invocations';
import { BENCH_REPOSITORY, BENCH_TEAM } from './org';
import { holds } from './real';
import { LARGE_ORG } from './real-org';
import type { ChildMessage, ChildStep, ReadRoute, ReadStep, StepAnswer } from './real-rollups-child';
import { formatBytes, formatCount, formatMs, markdownTable, median } from './stats';

/**
 * `npm run bench -- --loki=real --rollups`: the store of closed days on a real Loki 3.x and a real
 * S3-compatible server (s3rver), for the 300-repository organisation's year:
 * 1. the floor: the read path's Loki reader handing over the namespace's year once, without a store;
 * 2. `npm run rollups -- backfill` of that year, as users run it (its own process: time and peak RSS), then
 *    of the days around it that a year's summary also reads (the previous year, the look-around);
 * 3. what the store holds (objects, bytes per repository-year);
 * 4. `/metrics/summary` and `/metrics` (weekly) of the organisation and a team's `POST /data`, each in a
 *    new process (cold: its first request, as a new Lambda container), then the same request again (warm),
 *    counting what Loki and S3 were asked through proxies in front of both.
 * Children run with the V8 heap of the functions' memory setting (1,024 MB, serverless.yml).
 */

export const BUCKET = 'dora-bench-rollups';
export const FUNCTION_MEMORY_MB = 1024;
/** S3 Standard list prices, us-east-1 (docs/deployment.md): per request. */
const S3_PRICE = { GET: 0.0004 / 1000, PUT: 0.005 / 1000, LIST: 0.005 / 1000 } as const;
const PROJECT_ROOT = path.resolve(__dirname, '../..');

interface Counted {
  loki: ProxyCounts;
  s3: ProxyCounts;
}

export interface StoreBenchFigures {
  machine: { cores: number; loadAtStart: number[]; loadAtEnd: number[] };
  floor: StepAnswer;
  backfill: CommandFigures;
  backfillAround: CommandFigures;
  store: {
    objects: number;
    bytes: number;
    monthObjects: number;
    monthBytes: number;
    repositories: number;
    days: number;
  };
  reads: Array<{
    step: ReadStep;
    cold: StepAnswer;
    coldCounts: Counted;
    warm: StepAnswer[];
    warmCounts: Counted;
  }>;
}

interface CommandFigures {
  ms: number;
  maxRssMb: number;
  counts: Counted;
  lastLines: string;
}

export function s3Cost(counts: ProxyCounts): number {
  return Object.entries(S3_PRICE).reduce(
    (sum, [kind, price]) => sum + (counts.requests[kind] ?? 0) * price,
    0,
  );
}

export const countsText = (counts: ProxyCounts) =>
  Object.entries(counts.requests)
    .map(([kind, n]) => `${formatCount(n)} ${kind}`)
    .join(', ') || 'none';

/** `npm run rollups -- <args>` in a process of its own, as users run it; its peak RSS from report-rss.cjs. */
async function runRollupsCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  proxies: { loki: CountingProxy; s3: CountingProxy },
): Promise<CommandFigures> {
  const rssDir = mkdtempSync(path.join(tmpdir(), 'dora-bench-rss-'));
  const rssFile = path.join(rssDir, 'rss');
  proxies.loki.reset();
  proxies.s3.reset();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['--require', path.join(__dirname, 'report-rss.cjs'), '--import', 'tsx', 'scripts/rollups.ts', ...args],
    { cwd: PROJECT_ROOT, env: { ...env, BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exitCode = await exited(child);
  const ms = performance.now() - started;
  const counts = { loki: proxies.loki.snapshot(), s3: proxies.s3.snapshot() };
  let maxRssMb = Number.NaN;
  try {
    maxRssMb = Number(readFileSync(rssFile, 'utf8'));
  } finally {
    rmSync(rssDir, { recursive: true, force: true });
  }
  const lastLines = output
    .split(/[\r\n]+/)
    .filter((line) => line.trim() !== '')
    .slice(-2)
    .join('\n');
  if (exitCode !== 0)
    throw new Error(`npm run rollups -- ${args.join(' ')} exited with ${exitCode}:\n${output}`);
  return { ms, maxRssMb, counts, lastLines };
}

function startChild(env: NodeJS.ProcessEnv, step: ChildStep) {
  // BENCH_CPU_PROF=DIR: each child writes a V8 CPU profile there (open it in Chrome's DevTools).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // The bundles leave the AWS SDK out, as Lambda's runtime provides it: the project's copy stands in.
  const childEnv = { ...env, NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') };
  const child = forkScript('real-rollups-child.ts', childEnv, [
    ...lambdaHeapFlags(FUNCTION_MEMORY_MB),
    ...profile,
  ]);
  const messages: ChildMessage[] = [];
  const waiters: Array<(message: ChildMessage) => void> = [];
  child.on('message', (message: ChildMessage) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const next = () =>
    new Promise<ChildMessage>((resolve, reject) => {
      const queued = messages.shift();
      if (queued) return resolve(queued);
      child.once('exit', (code) => reject(new Error(`real-rollups-child.ts exited with ${code}`)));
      waiters.push(resolve);
    });
  child.send({ step });
  return { child, next };
}

async function measureFloor(
  env: NodeJS.ProcessEnv,
  year: { start: number; end: number },
): Promise<StepAnswer> {
  const { child, next } = startChild(env, { kind: 'floor', ...year });
  const message = await next();
  await exited(child);
  if (message.phase !== 'floor') throw new Error(`unexpected ${message.phase}`);
  return message.answer;
}

export async function measureRead(
  env: NodeJS.ProcessEnv,
  step: ReadStep,
  proxies: { loki: CountingProxy; s3: CountingProxy },
): Promise<StoreBenchFigures['reads'][number]> {
  proxies.loki.reset();
  proxies.s3.reset();
  const { child, next } = startChild(env, step);
  const cold = await next();
  if (cold.phase !== 'cold') throw new Error(`unexpected ${cold.phase}`);
  const coldCounts = { loki: proxies.loki.snapshot(), s3: proxies.s3.snapshot() };
  proxies.loki.reset();
  proxies.s3.reset();
  child.send({ next: true });
  const warm = await next();
  if (warm.phase !== 'warm') throw new Error(`unexpected ${warm.phase}`);
  const warmCounts = { loki: proxies.loki.snapshot(), s3: proxies.s3.snapshot() };
  await exited(child);
  return { step, cold: cold.answer, coldCounts, warm: warm.answers, warmCounts };
}

/** The objects of the bucket and their bytes, and of those the compacted months'. */
export async function storeContents(s3: Awaited<ReturnType<typeof startS3Server>>) {
  let objects = 0;
  let bytes = 0;
  let monthObjects = 0;
  let monthBytes = 0;
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      objects += 1;
      bytes += object.Size ?? 0;
      if (object.Key?.endsWith('.month.bin')) {
        monthObjects += 1;
        monthBytes += object.Size ?? 0;
      }
    }
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return { objects, bytes, monthObjects, monthBytes };
}

/** The functions of the reads, bundled as serverless.yml bundles them; the caller removes `dir`. */
export function bundleReadFunctions(): { dir: string; handlers: Record<ReadRoute, string> } {
  const { dir, handlers } = buildForProbe(['metrics-summary', 'metrics', 'data']);
  const file = (name: string) => {
    const found = handlers[name];
    if (found === undefined) throw new Error(`no bundle of functions/${name}.ts`);
    return found;
  };
  return {
    dir,
    handlers: { summary: file('metrics-summary'), metrics: file('metrics'), data: file('data') },
  };
}

/**
 * The reads both store benchmarks measure, over the year [firstDay, lastDay], each run from its function's
 * bundle: a cold request then spends nothing on compiling TypeScript, as on Lambda.
 */
export function readSteps(
  firstDay: string,
  lastDay: string,
  handlers: Record<ReadRoute, string>,
): ReadStep[] {
  const steps: Array<Omit<ReadStep, 'handlerFile'>> = [
    { kind: 'read', route: 'summary', firstDay, lastDay },
    { kind: 'read', route: 'metrics', firstDay, lastDay },
    { kind: 'read', route: 'data', team: BENCH_TEAM, firstDay, lastDay },
    { kind: 'read', route: 'summary', team: BENCH_TEAM, firstDay, lastDay },
    { kind: 'read', route: 'data', repository: BENCH_REPOSITORY, firstDay, lastDay },
  ];
  return steps.map((step) => ({ ...step, handlerFile: handlers[step.route] }));
}

const say = (message: string) => console.log(`[store bench] ${message}`);

export async function runRealRollupsBench(): Promise<{ report: string; figures: StoreBenchFigures }> {
  const loadAtStart = loadavg();
  const given = process.env.LOKI_BENCH_URL?.trim().replace(/\/+$/, '');
  let loki: RealLoki | undefined;
  if (given) await waitUntilReady(given, 30_000);
  else loki = await startRealLoki();
  const lokiUrl = given ?? (loki as RealLoki).url;
  const s3 = await startS3Server();
  const proxies = {
    loki: await startCountingProxy(lokiUrl, lokiRequestKind),
    s3: await startCountingProxy(s3.endpoint, s3RequestKind),
  };
  const bundles = bundleReadFunctions();
  try {
    say(
      `real Loki at ${lokiUrl}, s3rver at ${s3.endpoint}; ${cpus().length} cores, load ${loadAtStart[0]?.toFixed(1)}`,
    );
    const organisation = LARGE_ORG;
    if (await holds(lokiUrl, organisation)) {
      say(`${organisation.name}: already in this Loki`);
    } else {
      say(`${organisation.name}: loading into ${organisation.serviceNamespace}...`);
      const loaded = await loadIntoLoki(
        lokiUrl,
        generateEntries({ ...organisation.options, serviceNamespace: organisation.serviceNamespace }),
        { visibleWithinMs: 600_000 },
      );
      say(
        `  ${formatCount(loaded.entries)} lines pushed in ${formatMs(loaded.pushMs)}, visible after ${formatMs(loaded.visibleMs)}`,
      );
    }
    await s3.createBucket(BUCKET);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...benchEnvironment({ lokiUrl: proxies.loki.url, githubUrl: 'http://127.0.0.1:9' }),
      ...s3.environment,
      AWS_ENDPOINT_URL_S3: proxies.s3.url,
      SERVICE_NAME: organisation.serviceNamespace,
      ROLLUPS_URL: `s3://${BUCKET}/rollups`,
      LOOKAROUND_DAYS: '30',
    };
    const end = organisation.options.end;
    const days = organisation.options.days;
    const year = { start: end - days * DAY_MS, end };
    const firstDay = isoDay(year.start);
    const lastDay = isoDay(end - DAY_MS);

    say(`floor: the namespace's ${days} days from Loki once, no store...`);
    const floor = await measureFloor(env, year);
    say(
      `  ${formatMs(floor.ms)}, ${formatCount(floor.events ?? 0)} events, ${floor.maxRssMb.toFixed(0)} MB RSS`,
    );

    say(`npm run rollups -- backfill --from ${firstDay} --to ${lastDay}...`);
    const backfill = await runRollupsCommand(['backfill', '--from', firstDay, '--to', lastDay], env, proxies);
    say(
      `  ${formatMs(backfill.ms)} (${(backfill.ms / floor.ms).toFixed(2)}x the floor), ${backfill.maxRssMb.toFixed(0)} MB RSS`,
    );
    const contents = await storeContents(s3);

    // A year's summary also compares with the year before and looks around both: those days are empty here
    // but must be stored too for the summary to ask Loki nothing about closed days.
    const aroundFrom = isoDay(year.start - (days + 40) * DAY_MS);
    say(`npm run rollups -- backfill --from ${aroundFrom} (to the last closed day)...`);
    const backfillAround = await runRollupsCommand(['backfill', '--from', aroundFrom], env, proxies);
    say(`  ${formatMs(backfillAround.ms)}`);

    const reads: StoreBenchFigures['reads'] = [];
    for (const step of readSteps(firstDay, lastDay, bundles.handlers)) {
      const read = await measureRead(env, step, proxies);
      say(
        `  ${readLabel(step)}: cold ${formatMs(read.cold.ms)} (${read.cold.statusCode}, ${read.cold.rollups ?? '-'}), warm ${formatMs(median(read.warm.map((w) => w.ms)))}`,
      );
      reads.push(read);
    }
    const figures: StoreBenchFigures = {
      machine: { cores: cpus().length, loadAtStart, loadAtEnd: loadavg() },
      floor,
      backfill,
      backfillAround,
      store: { ...contents, repositories: organisation.options.repositories, days },
      reads,
    };
    return { report: reportOf(figures), figures };
  } finally {
    rmSync(bundles.dir, { recursive: true, force: true });
    await proxies.loki.close();
    await proxies.s3.close();
    await s3.close();
    await loki?.stop();
  }
}

export function readLabel(step: ReadStep): string {
  const scope = step.team
    ? `team ${step.team}`
    : step.repository
      ? `repository ${step.repository}`
      : 'organisation';
  const route = { summary: 'GET /metrics/summary', metrics: 'GET /metrics (weekly)', data: 'POST /data' }[
    step.route
  ];
  return `${route}, ${scope}, ${step.firstDay}..${step.lastDay}`;
}

/** Each read's cold and warm figures, with what Loki and S3 were asked. */
export function readsTable(reads: StoreBenchFigures['reads']): string {
  return markdownTable(
    [
      'request',
      'cold (new process)',
      'cold: X-Rollups',
      'cold: Loki',
      'cold: S3',
      'cold: S3 cost',
      'warm (median of 3)',
      'warm: Loki, S3',
      'peak RSS',
      'answer',
    ],
    reads.map((read) => [
      readLabel(read.step),
      `${formatMs(read.cold.ms)} (${read.cold.statusCode})`,
      read.cold.rollups ?? '-',
      countsText(read.coldCounts.loki),
      `${countsText(read.coldCounts.s3)}, ${formatBytes(read.coldCounts.s3.answeredBytes)}`,
      `$${s3Cost(read.coldCounts.s3).toFixed(5)}`,
      formatMs(median(read.warm.map((w) => w.ms))),
      `${countsText(read.warmCounts.loki)}; ${countsText(read.warmCounts.s3)}`,
      `${Math.max(...read.warm.map((w) => w.maxRssMb)).toFixed(0)} MB`,
      read.cold.detail ? `${read.cold.detail.slice(0, 80)}` : formatBytes(read.cold.bytes),
    ]),
  );
}

function reportOf(figures: StoreBenchFigures): string {
  const { floor, backfill, backfillAround, store, reads, machine } = figures;
  const perRepositoryYear = store.bytes / store.repositories / (store.days / 365);
  const fillTable = markdownTable(
    ['step', 'time', 'peak RSS', 'Loki requests', 'S3 requests', 'figures'],
    [
      [
        "floor: the namespace's year from Loki once (read path's reader, no store)",
        formatMs(floor.ms),
        `${floor.maxRssMb.toFixed(0)} MB`,
        '-',
        '-',
        `${formatCount(floor.events ?? 0)} events`,
      ],
      [
        `npm run rollups -- backfill, the year (${store.days} days)`,
        formatMs(backfill.ms),
        `${backfill.maxRssMb.toFixed(0)} MB`,
        countsText(backfill.counts.loki),
        countsText(backfill.counts.s3),
        `${(backfill.ms / floor.ms).toFixed(2)}x the floor; S3 $${s3Cost(backfill.counts.s3).toFixed(4)}`,
      ],
      [
        'npm run rollups -- backfill, the days around it (empty)',
        formatMs(backfillAround.ms),
        `${backfillAround.maxRssMb.toFixed(0)} MB`,
        countsText(backfillAround.counts.loki),
        countsText(backfillAround.counts.s3),
        `S3 $${s3Cost(backfillAround.counts.s3).toFixed(4)}`,
      ],
    ],
  );
  const readTable = readsTable(reads);
  return [
    `Store of closed days on a real Loki and s3rver: ${LARGE_ORG.name} (\`${LARGE_ORG.serviceNamespace}\`), ${machine.cores} cores, load average ${machine.loadAtStart
      .map((n) => n.toFixed(1))
      .join(
        ' ',
      )} at the start, ${machine.loadAtEnd.map((n) => n.toFixed(1)).join(' ')} at the end; children with a ${FUNCTION_MEMORY_MB} MB function's heap.`,
    '',
    fillTable,
    '',
    `Backfill's last words: ${backfill.lastLines.replace(/\n/g, ' / ')}`,
    '',
    `The store after the year's backfill: ${formatCount(store.objects)} objects, ${formatBytes(store.bytes)}: ${formatBytes(perRepositoryYear)} per repository-year; of these ${formatCount(store.monthObjects)} compacted months, ${formatBytes(store.monthBytes)} (the days alone: ${formatBytes((store.bytes - store.monthBytes) / store.repositories / (store.days / 365))} per repository-year).`,
    '',
    readTable,
  ].join('\n');
}
