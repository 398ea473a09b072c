import type { Config } from '../config';
import { createLokiEventStore, type LokiHooks, lokiSettingsFrom } from '../loki/client';
import { storeSelection } from '../loki/closed-days';
import { buildEventsQuery, type EventKind } from '../loki/logql';
import type { EventFilter } from '../loki/types';
import type { Secrets } from '../secrets';
import { openObjectStore } from '../store/open';
import type { FillDependencies } from './fill';
import { RollupStore } from './store';

/** Every kind, as the read path asks for them (lib/data/service.ts): the selection is that query's. */
const ALL_KINDS: readonly EventKind[] = ['deployments', 'incidents', 'merges'];

/** The store ROLLUPS_URL names; undefined when it is `off`. */
export function openRollupStore(config: Pick<Config, 'rollupsUrl'>): RollupStore | undefined {
  if (config.rollupsUrl === undefined) return undefined;
  return new RollupStore(openObjectStore(config.rollupsUrl, { variable: 'ROLLUPS_URL' }));
}

/**
 * The store's name of a selection under this configuration, without a Loki to read from (`status`): the
 * name depends on the query and parsing settings, never on where Loki is.
 */
export function selectionKeyFor(config: Config, filter: EventFilter): string {
  const settings = lokiSettingsFrom(
    { ...config, loki: { ...config.loki, url: config.loki.url ?? 'http://loki' } },
    { lokiToken: undefined },
  );
  return storeSelection(buildEventsQuery(ALL_KINDS, filter, settings), settings);
}

/**
 * The fill's parts for this configuration: the read path's Loki reader with the store attached, its name
 * of a selection, and which days have closed. The reader keeps no days in memory: a backfill passes each
 * day once, and a year of an organisation would not fit a function's memory.
 */
export function fillDependencies(
  config: Config,
  secrets: Pick<Secrets, 'lokiToken'>,
  rollups: RollupStore,
  now: number = Date.now(),
  hooks: LokiHooks = {},
): FillDependencies {
  const settings = { ...lokiSettingsFrom(config, secrets), dayCacheMaxMb: 0 };
  const events = createLokiEventStore(settings, { ...hooks, rollups });
  return {
    events,
    rollups,
    selectionKey: (filter) => storeSelection(buildEventsQuery(ALL_KINDS, filter, settings), settings),
    namespaceKey: storeSelection(buildEventsQuery(ALL_KINDS, {}, settings), settings),
    closedBefore: now - (settings.closedAfterMs ?? 0),
  };
}
