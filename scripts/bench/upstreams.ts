import { startGitHubServer } from '../../dev/github-server';
import { startLokiServer } from '../../dev/loki-server';
import type { LokiEntry } from '../../lib/loki/types';
import { generateEntries, type SampleCounts, sampleTeams } from '../../lib/sample/generator';
import { BENCH_ORG, LOKI_PAGE_LIMIT } from './org';

/**
 * Child process serving the benchmark organisation: a Loki stand-in (with Loki's paging limit) and a
 * GitHub stand-in for team ownership, on loopback. It runs apart from the measured process so that
 * neither its CPU nor its memory counts as ours.
 */
export interface UpstreamsReady {
  lokiUrl: string;
  githubUrl: string;
  counts: SampleCounts;
  generateMs: number;
  loadMs: number;
}

async function main(): Promise<void> {
  const loki = await startLokiServer({ maxEntriesLimitPerQuery: LOKI_PAGE_LIMIT });
  const generating = generateEntries(BENCH_ORG);
  let generateMs = 0;
  let loadMs = 0;
  let batch: LokiEntry[] = [];
  let step = performance.now();
  for (;;) {
    const next = generating.next();
    if (!next.done) batch.push(next.value);
    if (batch.length >= 20_000 || next.done) {
      const generated = performance.now();
      generateMs += generated - step;
      loki.add(batch);
      batch = [];
      step = performance.now();
      loadMs += step - generated;
    }
    if (next.done) {
      const github = await startGitHubServer({ org: BENCH_ORG.org, teams: sampleTeams(BENCH_ORG) });
      const ready: UpstreamsReady = {
        lokiUrl: loki.url,
        githubUrl: github.url,
        counts: next.value,
        generateMs,
        loadMs,
      };
      process.send?.(ready);
      break;
    }
  }
  // The parent going away (normally or not) ends this process.
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
