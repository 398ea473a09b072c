import fc from 'fast-check';
import type { TeamStreams } from '../../lib/config';
import type { EventFilter } from '../../lib/loki/types';

/**
 * Names, labels and filters for checking the in-memory filter (`eventPredicate` in lib/loki/logql.ts)
 * against LogQL's: names that differ only in case, that hold RE2 metacharacters, quotes, whitespace or
 * characters beyond ASCII, labels that are absent or disagree with the line, and every filter field.
 */

/** GitHub repository names ([A-Za-z0-9._-]), some equal but for case. */
export const REPOSITORY_NAMES = ['api', 'API', 'Api', 'web', 'a.b', 'aXb', 'a-b', 'a_b', 'x.y.z', '...', '-'];

/** Team names (any well-formed text), some equal but for case or metacharacters. */
export const TEAM_NAMES = [
  'Payments',
  'payments',
  'PAYMENTS',
  'platform-core',
  'Platform Core',
  'a.b',
  'aXb',
  'a|b',
  '(x)',
  '[y]*',
  'ünï€',
  '😀',
  'tab\there',
  'say "hi"',
  'back\\slash',
  '$^',
];

/** A label the stream selector may narrow repositories on (LOKI_REPOSITORY_LABEL) besides the defaults. */
export const CUSTOM_REPOSITORY_LABEL = 'repo_label';

const repository = fc.constantFrom(...REPOSITORY_NAMES);
const team = fc.constantFrom(...TEAM_NAMES);
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });

/** The labels of one deployment event that a filter may look at, and the repository its line names. */
export interface FilterableEvent {
  labels: {
    vcs_repository_name?: string | undefined;
    service_name?: string | undefined;
    team_name?: string | undefined;
    repo_label?: string | undefined;
  };
  /** `repository.name` in the line: the event's repository when `vcs_repository_name` is absent. */
  lineRepository: string;
}

export const filterableEvent: fc.Arbitrary<FilterableEvent> = fc.record({
  labels: fc.record(
    {
      vcs_repository_name: maybe(repository),
      // Usually the repository (the collector's), sometimes another service or a team-like name.
      service_name: maybe(fc.oneof(repository, team)),
      team_name: maybe(team),
      repo_label: maybe(repository),
    },
    { requiredKeys: [] },
  ),
  lineRepository: repository,
});

export const eventFilter: fc.Arbitrary<EventFilter> = fc.record(
  {
    repositories: fc.uniqueArray(repository, { maxLength: 3 }),
    team: fc.oneof(team, fc.constant('')),
    teamAliases: fc.uniqueArray(team, { maxLength: 2 }),
    teamRepositories: fc.uniqueArray(repository, { maxLength: 3 }),
    otherTeamsRepositories: fc.uniqueArray(repository, { maxLength: 3 }),
    services: fc.uniqueArray(fc.oneof(repository, team), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

export interface FilterOptions {
  repositoryLabel: string | undefined;
  teamStreams: TeamStreams | undefined;
}

export const filterOptions: fc.Arbitrary<FilterOptions> = fc.record({
  repositoryLabel: fc.constantFrom(
    undefined,
    '',
    'service_name',
    'vcs_repository_name',
    CUSTOM_REPOSITORY_LABEL,
  ),
  teamStreams: fc.constantFrom(undefined, 'all', 'owned', 'skip-others'),
});

/** The labels without the absent ones, as Loki and the parser see them. */
export function presentLabels(labels: FilterableEvent['labels']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** A production deployment's JSON line (the collector's shape) naming `lineRepository`. */
export function deploymentLine(event: FilterableEvent, id: number, at: number): string {
  return JSON.stringify({
    deployment: { id, sha: `sha${id}`, created_at: new Date(at).toISOString(), environment: 'production' },
    deployment_status: { state: 'success', environment: 'production' },
    repository: {
      name: event.lineRepository,
      full_name: `acme/${event.lineRepository}`,
      html_url: `https://github.com/acme/${event.lineRepository}`,
    },
  });
}
