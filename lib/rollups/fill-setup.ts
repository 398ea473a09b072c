import type { Config } from '../config';
import { ConfigError } from '../config';
import { createLokiEventStore, type LokiHooks, lokiSettingsFrom } from '../loki/client';
import { buildEventsQuery, type EventKind } from '../loki/logql';
import type { Secrets } from '../secrets';
import { type ObjectStore, openDirectoryStore } from '../store/object-store';
import type { FillDependencies } from './fill';

/** Every kind, as the read path asks for them (lib/data/service.ts): the selection's key is that query's text. */
const ALL_KINDS: readonly EventKind[] = ['deployments', 'incidents', 'merges'];

/** The store ROLLUPS_URL names; undefined when it is `off` or unset. */
export function openRollupStore(url: string | undefined): ObjectStore | undefined {
  if (url === undefined || url === '' || url === 'off') return undefined;
  if (url.startsWith('file://')) return openDirectoryStore(url);
  throw new ConfigError(`ROLLUPS_URL: not a store this build can open: ${url}`);
}

/**
 * The fill's parts for this configuration: the read path's Loki reader with the store attached, its key
 * of a selection, and which days have closed. The reader keeps no days in memory: a backfill passes each
 * day once, and a year of an organisation would not fit a function's memory.
 */
export function fillDependencies(
  config: Config,
  secrets: Pick<Secrets, 'lokiToken'>,
  store: ObjectStore,
  now: number = Date.now(),
  hooks: LokiHooks = {},
): FillDependencies {
  const settings = { ...lokiSettingsFrom(config, secrets), dayCacheMaxMb: 0 };
  const events = createLokiEventStore(settings, hooks);
  return {
    events,
    store,
    selectionKey: (filter) => buildEventsQuery(ALL_KINDS, filter, settings),
    closedBefore: now - (settings.closedAfterMs ?? 0),
  };
}
