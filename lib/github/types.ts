import type { Team } from '../dora/types';

/** The GitHub organisation's teams, fetched (every page) from the REST API. */
export interface TeamSource {
  listTeams(signal?: AbortSignal): Promise<Team[]>;
}

export interface TeamList {
  teams: Team[];
  /** When the list was fetched from GitHub (epoch ms). */
  fetchedAt: number;
  /** True when GitHub failed and an expired list is served instead. */
  stale: boolean;
  /** hit: served from memory; miss: fetched now; stale: GitHub failed, the last list is served. */
  cache: 'hit' | 'miss' | 'stale';
  /** When stale: why GitHub could not be asked (safe to show a client). */
  staleReason?: string;
}

/** Teams with a cache in front: what handlers and /data's team resolution use. */
export interface TeamDirectory {
  getTeams(options?: { refresh?: boolean }): Promise<TeamList>;
  /** repository name -> name of the team that owns it (first team in name order when several do). */
  teamsByRepository(options?: { refresh?: boolean }): Promise<Map<string, string>>;
}
