import type { Team } from '../../lib/dora/types';
import type { LokiEntry } from '../../lib/loki/types';
import { generateSample } from '../../lib/sample/generator';

/**
 * The organisation the real-Loki suite loads: small enough to load and query in seconds on a 2-core
 * Loki, and still holding what the differential tests must see. Fixed seed and end: every run (and the
 * global setup, and each test file) builds the same entries; only `service_namespace` differs per run.
 *
 * - 6 repositories of 3 teams over 45 days (the generator's mix: `production` and `prod`, staging,
 *   dev, previews and `prod-eu` deployments, failures retried with the same sha or fixed by a new
 *   change, incidents, bugs, pull requests closed unmerged, merges before the window, direct pushes);
 * - `auth-gateway`, whose events carry no `team_name` (only GitHub says who owns it), is the busy one:
 *   over its last 31 days it deploys as often as the generator lets a repository (~130 a day), so its
 *   merges of one 30-day query run past one 5,000-line page;
 * - junk lines: lines that are not JSON or lack what their kind of event needs, labelled so Loki
 *   returns them to every query of their kind.
 */

export const DAY = 86_400_000;
export const ORG_END = Date.UTC(2026, 10, 27);
export const ORG_DAYS = 45;
export const ORG_START = ORG_END - ORG_DAYS * DAY;
export const BUSY_REPOSITORY = 'auth-gateway';
export const BUSY_DAYS = 31;
const SEED = 11;
const TEAMS = 3;

export interface TestOrganisation {
  entries: LokiEntry[];
  teams: Team[];
  /** Entries that are not events (skipped by the parser). */
  junk: LokiEntry[];
}

export function testOrganisation(serviceNamespace: string): TestOrganisation {
  const common = { seed: SEED, end: ORG_END, teams: TEAMS, serviceNamespace };
  const quiet = generateSample({ ...common, days: ORG_DAYS, repositories: 6 });
  // The generator plans a repository by its index alone, so the busy sample's auth-gateway (index 4)
  // belongs to the same team and has the same habits as the quiet one it replaces.
  const busy = generateSample({
    ...common,
    days: BUSY_DAYS,
    repositories: 5,
    deploymentsPerRepositoryPerDay: 5000,
  });
  const entries = [
    ...quiet.entries.filter((entry) => entry.labels.service_name !== BUSY_REPOSITORY),
    ...busy.entries.filter((entry) => entry.labels.service_name === BUSY_REPOSITORY),
  ];
  const junk = junkLines(entries);
  return { entries: sortedByTime([...entries, ...junk]), teams: quiet.teams, junk };
}

/** Lines each kind's query returns that the parser must skip, in two repositories' streams. */
function junkLines(entries: readonly LokiEntry[]): LokiEntry[] {
  const like = (kind: (entry: LokiEntry) => boolean, repository: string): LokiEntry => {
    const found = entries.find((entry) => entry.labels.service_name === repository && kind(entry));
    if (found === undefined) throw new Error(`the organisation has no such event in ${repository}`);
    return found;
  };
  const deployment = (entry: LokiEntry) =>
    entry.labels.deployment_status === 'success' &&
    /^prod/.test(entry.labels.deployment_environment_name ?? '');
  const merge = (entry: LokiEntry) => entry.labels.event_name === 'change_closed' && !!entry.labels.merged_at;
  const junk: LokiEntry[] = [];
  for (const repository of ['payments-api', BUSY_REPOSITORY]) {
    const lines: Array<[LokiEntry, string]> = [
      [like(deployment, repository), 'deployment succeeded (not JSON)'],
      [like(deployment, repository), '{"deployment_status":{"state":"success"}}'],
      [like(merge, repository), '{"action":"closed"}'],
      [like(merge, repository), '{"pull_request":{"merged_at":"2026-11-01T10:00:00Z"'],
    ];
    for (const [template, line] of lines) {
      // One nanosecond after the event it imitates: its own entry, next to real ones.
      junk.push({ labels: template.labels, timestampNs: String(BigInt(template.timestampNs) + 1n), line });
    }
  }
  return junk;
}

/** Stable: entries of one instant keep their order, as each stream must be pushed in time order. */
function sortedByTime(entries: LokiEntry[]): LokiEntry[] {
  return entries
    .map((entry, index) => ({ entry, index, ns: BigInt(entry.timestampNs) }))
    .sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.index - b.index))
    .map(({ entry }) => entry);
}
