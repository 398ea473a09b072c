import type { SampleOptions } from '../../lib/sample/generator';

/**
 * The organisation the benchmark measures: 300 repositories over a year, about 100,000 production
 * deployments. Fixed seed and end, so every run (and every child process) generates the same lines.
 */
export const BENCH_ORG: Required<Omit<SampleOptions, 'serviceNamespace' | 'openIncidentDays'>> = {
  seed: 2026,
  org: 'acme',
  teams: 8,
  // BENCH_REPOSITORIES and BENCH_DAYS make a smaller organisation for trying the benchmark out quickly.
  repositories: Number(process.env.BENCH_REPOSITORIES ?? 300),
  days: Number(process.env.BENCH_DAYS ?? 365),
  end: Date.UTC(2026, 10, 27),
  // Retries after failures and working-hours clustering add to the mean: 0.94 gives ~100k a year.
  deploymentsPerRepositoryPerDay: 0.94,
};

/** Loki's default `max_entries_limit_per_query`, which the stand-in enforces and the client pages by. */
export const LOKI_PAGE_LIMIT = 5000;

/** A team and a repository the latency table filters on (both exist in BENCH_ORG). */
export const BENCH_TEAM = 'Payments';
export const BENCH_REPOSITORY = 'payments-api';
