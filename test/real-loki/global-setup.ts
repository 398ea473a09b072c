import {
  findRealLoki,
  loadIntoLoki,
  readLokiLimits,
  uniqueServiceNamespace,
  useRealLoki,
} from '../../dev/real-loki';
import { testOrganisation } from './organisation';
import { lokiTestPort } from './real-loki';

/**
 * Finds a real Loki (LOKI_TEST_URL) or starts one (LOKI_BIN, or CI's), reads its limits, and loads the test organisation
 * under a `service_namespace` of this run. LOKI_TEST_PORT (a port or a range such as 3210-3229)
 * chooses where a started Loki listens; default any free port.
 */
export default async function globalSetup(): Promise<void> {
  const source = findRealLoki();
  if (source.kind === 'none') {
    console.warn(`\nSkipping the real-Loki suite: ${source.reason}.\n`);
    return;
  }
  const startedAt = performance.now();
  const port = lokiTestPort();
  const loki = await useRealLoki(port === undefined ? {} : { port });
  if (loki === undefined) return;
  (globalThis as { realLoki?: typeof loki }).realLoki = loki;
  const readyAt = performance.now();
  const serviceNamespace = uniqueServiceNamespace('dora-test');
  const organisation = testOrganisation(serviceNamespace);
  const report = await loadIntoLoki(loki.url, organisation.entries);
  const limits = await readLokiLimits(loki.url);
  process.env.REAL_LOKI_URL = loki.url;
  process.env.REAL_LOKI_NAMESPACE = serviceNamespace;
  process.env.REAL_LOKI_LIMITS = JSON.stringify(limits);
  console.log(
    `\nReal Loki at ${loki.url} (${loki.pid === undefined ? 'LOKI_TEST_URL' : `started here in ${seconds(readyAt - startedAt)}, PID ${loki.pid}`}); ` +
      `loaded ${report.entries} entries in ${report.streams} streams (${report.pushes} pushes) in ${seconds(report.pushMs)}, visible ${seconds(report.visibleMs)} after the flush ` +
      `under service_namespace="${serviceNamespace}"; ` +
      `max_query_length ${limits.maxQueryLengthMs === 0 ? 'none' : `${limits.maxQueryLengthMs / 3_600_000} h`}, ` +
      `max_entries_limit_per_query ${limits.maxEntriesLimitPerQuery} (${limits.source === 'config' ? 'its GET /config' : "Loki's defaults: no GET /config"})`,
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
