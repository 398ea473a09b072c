import type { SampleOptions } from '../../lib/sample/generator';
import { BENCH_ORG } from './org';

/** An organisation the real-Loki benchmark loads under its own `service_namespace`. */
export interface RealBenchOrganisation {
  name: string;
  serviceNamespace: string;
  options: Required<Omit<SampleOptions, 'serviceNamespace' | 'openIncidentDays'>>;
}

/** 12 repositories over a quarter: the size of organisation the first target is about. */
export const SMALL_ORG: RealBenchOrganisation = {
  name: '12 repositories, 90 days',
  serviceNamespace: 'bench-small',
  options: {
    seed: 42,
    org: 'acme',
    teams: 5,
    repositories: 12,
    days: 90,
    end: BENCH_ORG.end,
    deploymentsPerRepositoryPerDay: 1.5,
  },
};

/** The benchmark organisation of `npm run bench`: 300 repositories over a year. */
export const LARGE_ORG: RealBenchOrganisation = {
  name: `${BENCH_ORG.repositories} repositories, ${BENCH_ORG.days} days`,
  // A smaller organisation (BENCH_REPOSITORIES, BENCH_DAYS) has a namespace of its own: a kept Loki holds both.
  serviceNamespace:
    BENCH_ORG.repositories === 300 && BENCH_ORG.days === 365
      ? 'bench-org'
      : `bench-org-${BENCH_ORG.repositories}r-${BENCH_ORG.days}d`,
  options: BENCH_ORG,
};
