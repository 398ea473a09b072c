import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EventBatch } from '../../lib/dora/types';
import { eventsFromEntries } from '../../lib/loki/parse';
import type { LokiEntry } from '../../lib/loki/types';

/**
 * Real Loki `query_range` responses. They ship with the project's workspace (next to the project), not with a
 * clone, so they are read in place and every test using them skips when they are absent.
 */
export const FIXTURES_DIR = path.resolve(__dirname, '../../../shared/fixtures/loki');

export type FixtureKind = 'deployments' | 'incidents' | 'merges';

export function fixturesAvailable(): boolean {
  return existsSync(FIXTURES_DIR);
}

const warnedAbout = new Set<string>();

/** `describe` when the fixtures are present, otherwise `describe.skip` with one clear warning. */
export function describeWithFixtures(name: string, fn: () => void): void {
  if (fixturesAvailable()) {
    describe(name, fn);
    return;
  }
  if (!warnedAbout.has(name)) {
    warnedAbout.add(name);
    console.warn(
      `Skipping ${name}: ../shared/fixtures/loki is not present (it ships with the project's workspace, not with a clone)`,
    );
  }
  describe.skip(name, fn);
}

interface QueryRangeFixture {
  data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
}

const cache = new Map<FixtureKind, LokiEntry[]>();

/** The fixture's streams flattened into entries (labels as `stream`, in the file's order). */
export function fixtureEntries(kind: FixtureKind): LokiEntry[] {
  const cached = cache.get(kind);
  if (cached) return cached.map((entry) => ({ ...entry, labels: { ...entry.labels } }));
  const file = path.join(FIXTURES_DIR, `${kind}.json`);
  const body = JSON.parse(readFileSync(file, 'utf8')) as QueryRangeFixture;
  const entries: LokiEntry[] = [];
  for (const stream of body.data.result) {
    for (const [timestampNs, line] of stream.values) {
      entries.push({ labels: stream.stream, timestampNs, line });
    }
  }
  cache.set(kind, entries);
  return entries.map((entry) => ({ ...entry, labels: { ...entry.labels } }));
}

/** The three fixtures parsed into the domain events the record builder takes. */
export function fixtureEvents(): EventBatch {
  return {
    deployments: eventsFromEntries('deployments', fixtureEntries('deployments')).deployments,
    incidents: eventsFromEntries('incidents', fixtureEntries('incidents')).incidents,
    merges: eventsFromEntries('merges', fixtureEntries('merges')).merges,
  };
}

/** The 15 keys of a `/data` record, in the contract's order (../shared/spec/contract.md). */
export const CONTRACT_RECORD_KEYS = [
  'repository',
  'team',
  'title',
  'user',
  'sha',
  'status',
  'failed_at',
  'merged_at',
  'created_at',
  'fixed_at',
  'fixed_url',
  'deploy_url',
  'issue_url',
  'change_url',
  'total_cycle_time',
];
