import type { Context } from 'aws-lambda';
import type { Config } from '../config';
import { getTeamDirectory } from '../github/directory';
import type { TeamDirectory } from '../github/types';
import { getEventStore } from '../loki/client';
import type { EventStore } from '../loki/types';
import { pairMemo } from '../memo';
import { guardedEventStore } from '../rollups/handlers';
import type { Secrets } from '../secrets';
import { DataService } from './service';

/** Time kept back from Lambda's deadline to answer a 504 of our own instead of a gateway error. */
export const DEADLINE_MARGIN_MS = 2_000;

/** Epoch ms by which upstream work must have stopped for this invocation. */
export function deadlineOf(context: Pick<Context, 'getRemainingTimeInMillis'>): number {
  return Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
}

const services = pairMemo<EventStore, TeamDirectory | undefined, DataService>();

/**
 * The data service of this container: built once per event store and team directory (which are
 * themselves memoised per credentials), so warm invocations share its cache.
 */
export function getDataService(config: Config, secrets: Secrets): DataService {
  // With a store of closed days, a request missing more of them than it can read answers 503 (lib/rollups/backlog.ts).
  const events = guardedEventStore(getEventStore(config, secrets), config, secrets);
  const teams = getTeamDirectory(config, secrets);
  return services(events, teams, () => new DataService({ events, teams, config }));
}
