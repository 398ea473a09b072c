import { generateSample, type Sample } from '../lib/sample/generator';
import { sampleGitOpsReports } from '../lib/sample/gitops';
import { statusEntry } from '../lib/status/store';
import { type LokiServer, startLokiServer } from './loki-server';

/** Fixed so every `npm start` (and `npm run rollups` without LOKI_URL) shows the same story (relative to today). */
export const SAMPLE_SEED = 42;
export const SAMPLE_DAYS = 90;

export interface SampleLoki {
  loki: LokiServer;
  sample: Sample;
  /** What is served, for the console. */
  description: string;
}

/**
 * The generated events `npm start` serves when LOKI_URL is unset, behind a local Loki-speaking server:
 * `npm run rollups` without LOKI_URL reads the very same events.
 */
export async function startSampleLoki(env: NodeJS.ProcessEnv, org: string): Promise<SampleLoki> {
  const now = Date.now();
  const serviceNamespace = env.SERVICE_NAME || env.QUERY_SERVICE_NAMESPACE || 'github';
  const sample = generateSample({ seed: SAMPLE_SEED, end: now, days: SAMPLE_DAYS, org, serviceNamespace });
  // GitOps reports as if the agents had just sent them, so the drift table is not empty either.
  const gitOps = sampleGitOpsReports(org, now).map((report) => statusEntry(report, serviceNamespace, now));
  const loki = await startLokiServer({ entries: [...sample.entries, ...gitOps], host: '127.0.0.1' });
  const { counts } = sample;
  const description =
    `${counts.entries} generated events (${counts.productionDeployments} production ` +
    `deployments, ${counts.merges} merges, ${counts.incidents} incidents over the last ${SAMPLE_DAYS} days) ` +
    `from a local Loki stand-in at ${loki.url}`;
  return { loki, sample, description };
}
