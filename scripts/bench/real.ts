import { cpus, loadavg } from 'node:os';
import { loadIntoLoki, type RealLoki, startRealLoki, waitUntilReady } from '../../dev/real-loki';
import { generateEntries } from '../../lib/sample/generator';
import { DAY_MS, NS_PER_MS } from '../../lib/time';
import { exited, forkScript } from './children';
import { BENCH_REPOSITORY, BENCH_TEAM } from './org';
import type { Floor, RealCase, RealCaseResult, RealCasesInput } from './real-cases';
import { LARGE_ORG, type RealBenchOrganisation, SMALL_ORG } from './real-org';
import { formatCount, formatMs, markdownTable } from './stats';

/**
 * `npm run bench -- --loki=real`: the API against a real Grafana Loki (LOKI_BENCH_URL, else the Loki 3.x
 * binary at LOKI_BIN started here, else the start script CI keeps beside the checkout), each case beside two floors measured in the same run:
 * naive (the three event queries with label filters, paged, one after the other) and one pass (one
 * query selecting exactly the requested streams, no filter). The organisations are bulk-loaded first,
 * unless that Loki already holds them (a Loki kept with LOKI_BENCH_URL is loaded once).
 */

const SECOND_REPOSITORY = 'checkout-service';

function cases(organisation: RealBenchOrganisation): RealCase[] {
  if (organisation === SMALL_ORG) {
    const two = ['checkout-service', 'payments-api'];
    return [
      { route: 'data', days: 90, nextDay: true },
      { route: 'data', days: 90, repositories: two, nextDay: true },
      { route: 'metrics', days: 90 },
    ];
  }
  const one = [BENCH_REPOSITORY];
  // A year and a quarter, or all of a smaller organisation's days (BENCH_DAYS).
  const year = organisation.options.days;
  const quarter = Math.min(90, year);
  const two = [BENCH_REPOSITORY, SECOND_REPOSITORY];
  return [
    // The naive floor of a repository over 90 days among 300 takes about two minutes; over a year its
    // 30-day label-filter queries outlive Loki's 30 s write timeout. Measured once, for 90 days.
    { route: 'data', days: quarter, repositories: one, nextDay: true },
    { route: 'data', days: year, repositories: one, skipNaive: true, nextDay: true },
    { route: 'data', days: quarter, repositories: two, skipNaive: true },
    { route: 'data', days: year, repositories: two, skipNaive: true },
    // A team reads every stream but those of other teams' repositories (LOKI_TEAM_STREAMS=skip-others):
    // here, where GitHub gives every repository a team, exactly its own streams, its one-pass floor.
    { route: 'data', days: year, team: BENCH_TEAM, skipNaive: true },
    { route: 'metrics', days: year, team: BENCH_TEAM, skipNaive: true },
    { route: 'metrics', days: year, skipNaive: true, skipOnePass: true },
  ];
}

/** Whether this Loki already holds the organisation (its last day has lines). */
export async function holds(lokiUrl: string, organisation: RealBenchOrganisation): Promise<boolean> {
  const end = organisation.options.end;
  const params = new URLSearchParams({
    query: `{service_namespace="${organisation.serviceNamespace}"}`,
    start: String(BigInt(end - DAY_MS) * NS_PER_MS),
    end: String(BigInt(end) * NS_PER_MS),
    limit: '1',
  });
  const response = await fetch(`${lokiUrl}/loki/api/v1/query_range?${params}`);
  const body = (await response.json()) as { data?: { result?: unknown[] } };
  return (body.data?.result?.length ?? 0) > 0;
}

async function runCases(input: RealCasesInput): Promise<RealCaseResult[]> {
  const child = forkScript('real-cases.ts');
  const results = new Promise<RealCaseResult[]>((resolve, reject) => {
    child.on('message', (message: { progress?: RealCaseResult; done?: RealCaseResult[] }) => {
      if (message.progress) console.log(`  ${describe(message.progress)}`);
      if (message.done) resolve(message.done);
    });
    child.once('exit', (code) => reject(new Error(`real-cases.ts exited with ${code}`)));
  });
  child.send(input);
  try {
    return await results;
  } finally {
    await exited(child);
  }
}

function scopeOf(result: RealCase): string {
  if (result.repositories) return result.repositories.join(', ');
  if (result.team) return `team ${result.team}`;
  return 'organisation';
}

function describe(result: RealCaseResult): string {
  return (
    `${result.route} ${result.days} d ${scopeOf(result)}: ${formatMs(result.ms)} (${result.statusCode}); ` +
    (result.nextDayMs === undefined
      ? ''
      : `next day ${formatMs(result.nextDayMs)} (${result.nextDayStatusCode}); `) +
    `naive ${floorCell(result.naive)}, one pass ${floorCell(result.onePass)}, with look-around ${floorCell(result.onePassWithLookaround)}`
  );
}

const ratio = (ms: number, floor: Floor | undefined) =>
  floor === undefined || 'failed' in floor ? '-' : `${(ms / floor.ms).toFixed(2)}x`;

function floorCell(floor: Floor | undefined): string {
  if (floor === undefined) return 'not measured';
  if ('failed' in floor) return `failed after ${formatMs(floor.ms)}: ${floor.failed.slice(0, 60)}`;
  return `${formatMs(floor.ms)} (${floor.requests} req.)`;
}

export async function runRealLokiBench(args: { lookaroundDays: number }): Promise<string> {
  let loki: RealLoki | undefined;
  const given = process.env.LOKI_BENCH_URL?.trim().replace(/\/+$/, '');
  if (given) await waitUntilReady(given, 30_000);
  else loki = await startRealLoki();
  const lokiUrl = given ?? (loki as RealLoki).url;
  const sections: string[] = [];
  try {
    console.log(
      `Real Loki at ${lokiUrl} (${given ? 'LOKI_BENCH_URL' : 'started here'}); ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}`,
    );
    for (const organisation of [SMALL_ORG, LARGE_ORG]) {
      if (await holds(lokiUrl, organisation)) {
        console.log(`${organisation.name}: already in this Loki (${organisation.serviceNamespace})`);
      } else {
        console.log(`${organisation.name}: loading into ${organisation.serviceNamespace}...`);
        const report = await loadIntoLoki(
          lokiUrl,
          generateEntries({ ...organisation.options, serviceNamespace: organisation.serviceNamespace }),
          // Hundreds of streams take a busy 2-core Loki more than the default minute to show.
          { visibleWithinMs: 600_000 },
        );
        console.log(
          `  ${formatCount(report.entries)} lines, ${report.streams} streams, pushed in ${formatMs(report.pushMs)}, visible after ${formatMs(report.visibleMs)}`,
        );
      }
      const results = await runCases({
        lokiUrl,
        organisation,
        cases: cases(organisation),
        lookaroundDays: args.lookaroundDays,
      });
      const table = markdownTable(
        [
          'route',
          'window',
          'scope',
          'status',
          'time',
          'Loki requests',
          'Loki lines',
          'naive floor',
          'vs naive',
          'one pass (window)',
          'vs one pass',
          'one pass (window + look-around)',
          'next day, warm',
        ],
        results.map((result) => [
          result.route === 'data' ? 'POST /data' : 'GET /metrics',
          `${result.days} d`,
          scopeOf(result),
          result.detail ? `${result.statusCode}: ${result.detail}` : String(result.statusCode),
          formatMs(result.ms),
          String(result.lokiRequests),
          formatCount(result.lokiLines),
          floorCell(result.naive),
          ratio(result.ms, result.naive),
          floorCell(result.onePass),
          ratio(result.ms, result.onePass),
          floorCell(result.onePassWithLookaround),
          result.nextDayMs === undefined
            ? '-'
            : `${formatMs(result.nextDayMs)} (${result.nextDayStatusCode}, ${result.nextDayLokiRequests} req., ${(result.nextDayMs / result.ms).toFixed(2)}x)`,
        ]),
      );
      sections.push(`#### ${organisation.name} (\`${organisation.serviceNamespace}\`)`, '', table, '');
    }
  } finally {
    await loki?.stop();
  }
  return [
    `Real Loki 3.7.6, cold (no_cache=true, no results cache), look-around ${args.lookaroundDays} days; load average at the end ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}.`,
    '',
    ...sections,
  ].join('\n');
}
