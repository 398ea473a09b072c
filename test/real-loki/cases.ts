import { BUSY_REPOSITORY, DAY, ORG_END } from './organisation';

/** What the differential tests ask of the test organisation (differential.test.ts, rollups.test.ts). */

export const INTERVALS = ['daily', 'weekly', 'monthly', 'all'] as const;

/** Filters of /metrics and /metrics/summary; each period longer than 30 days makes the client split. */
export const METRIC_CASES: Array<[string, Record<string, string>]> = [
  ['the organisation over 44 days', { start_date: '2026-10-14', end_date: '2026-11-26' }],
  [
    'two repositories, one busy past a 5,000-line page',
    { start_date: '2026-10-28', end_date: '2026-11-26', repositories: `${BUSY_REPOSITORY},payments-api` },
  ],
  ['a team by its name', { start_date: '2026-10-20', end_date: '2026-11-26', team: 'Platform Core' }],
  ['a team by its slug', { start_date: '2026-10-20', end_date: '2026-11-26', team: 'platform-core' }],
  [
    'the team owning the repository whose streams carry no team_name',
    { start_date: '2026-10-20', end_date: '2026-11-26', team: 'tag-o11y' },
  ],
];

const iso = (ms: number) => new Date(ms).toISOString();

export const DATA_CASES: Array<[string, Record<string, unknown>, number]> = [
  [
    'the organisation over 43 days from a mid-day start (past max_query_length)',
    { start: '2026-10-14T13:17:23.456Z', end: '2026-11-26T00:00:00Z' },
    1000,
  ],
  [
    'the busy repository over 30 days (its merges run past one 5,000-line page)',
    { start: iso(ORG_END - 30 * DAY), end: iso(ORG_END), repositories: [BUSY_REPOSITORY] },
    1000,
  ],
  [
    'two repositories',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), repositories: ['payments-api', 'web-storefront'] },
    10,
  ],
  ['a team by its name', { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'Payments' }, 10],
  ['a team by its slug', { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'platform-core' }, 10],
  [
    'the team owning the repository whose streams carry no team_name',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'tag-o11y' },
    1000,
  ],
  [
    'a service (the service_name index label) and a team',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), service: BUSY_REPOSITORY, team: 'tag-o11y' },
    1000,
  ],
  ["the dashboards' 356-day window", { start: iso(ORG_END - 356 * DAY), end: iso(ORG_END) }, 1000],
];

/** A summary reads its period and the one before: twice the Loki work of a /metrics period. Two cases. */
export const SUMMARY_CASES = [METRIC_CASES[0], METRIC_CASES[4]] as Array<[string, Record<string, string>]>;
