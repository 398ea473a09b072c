import { LRUCache } from 'lru-cache';
import type { DeploymentEvent, IncidentEvent, MergeEvent } from '../dora/types';
import type { EventKind, EventPredicate, FilterLabels } from './logql';

/**
 * The events of closed UTC days, per stream selection, kept by the Loki reader of a container. A day is
 * closed once nothing can be written into it any more: its end is further back than the write path's
 * back-dating (LOKI_PUSH_MAX_BACKDATE) and Loki's refusal of entries far behind their stream. The
 * dashboards ask for a sliding window (356 days ending yesterday) again every day, and for different
 * windows over the same days: each asks Loki only for the days this cache lacks.
 */

/** Heap taken by one cached event with its timestamp (as measured for the answer cache, see lib/data/service.ts). */
const BYTES_PER_EVENT = 400;

/**
 * One event of a day: its Loki timestamp (its ranges are checked against it), the event, and the labels a
 * filter selects on where they differ from the event's repository (`filterLabels` in logql.ts), so that
 * a day of the whole namespace can be narrowed to any filter's events.
 */
export type DayEntry<E> = [timestampNs: string, event: E, labels?: FilterLabels | undefined];

/** One day's events of one selection, each kind with the Loki timestamps its ranges are checked against. */
export interface DayEvents {
  deployments: Array<DayEntry<DeploymentEvent>>;
  incidents: Array<DayEntry<IncidentEvent>>;
  merges: Array<DayEntry<MergeEvent>>;
}

export function emptyDay(): DayEvents {
  return { deployments: [], incidents: [], merges: [] };
}

export function eventCount(day: DayEvents): number {
  return day.deployments.length + day.incidents.length + day.merges.length;
}

export type { EventKind };

/** The day's events that `keep` selects (the same day when it keeps all). */
export function narrowDay(day: DayEvents, keep: EventPredicate | undefined): DayEvents {
  if (keep === undefined) return day;
  return {
    deployments: day.deployments.filter(([, event, labels]) => keep(event, labels)),
    incidents: day.incidents.filter(([, event, labels]) => keep(event, labels)),
    merges: day.merges.filter(([, event, labels]) => keep(event, labels)),
  };
}

export class DayCache {
  private readonly days: LRUCache<string, DayEvents>;

  constructor(maxMb: number) {
    this.days = new LRUCache<string, DayEvents>({
      maxSize: Math.max(1, Math.floor((maxMb * 1_000_000) / BYTES_PER_EVENT)),
      sizeCalculation: (day) => Math.max(1, eventCount(day)),
    });
  }

  get(selection: string, dayStart: number): DayEvents | undefined {
    return this.days.get(`${dayStart}\u0000${selection}`);
  }

  set(selection: string, dayStart: number, day: DayEvents): void {
    this.days.set(`${dayStart}\u0000${selection}`, day);
  }

  get size(): number {
    return this.days.size;
  }
}
