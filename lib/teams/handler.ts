import { requireTeamDirectory } from '../github/directory';
import type { TeamList } from '../github/types';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { type TeamsQuery, type TeamsShape, teamsShape } from './query';

/** The wire form of GET /teams in either shape. */
export function teamsBody(list: Pick<TeamList, 'teams'>, shape: TeamsShape) {
  return shape === 'name'
    ? { teams: list.teams.map((team) => team.name) }
    : { teams: list.teams.map((team) => ({ name: team.name, repositories: team.repositories })) };
}

/** How fresh the answer is: X-Cache always; when stale, the RFC 9111 warning and the reason. */
export function cacheHeaders(list: TeamList): Record<string, string> {
  const headers: Record<string, string> = {
    'X-Cache': list.cache,
    'X-Teams-Fetched-At': new Date(list.fetchedAt).toISOString(),
  };
  if (list.stale) {
    headers.Warning = '110 - "Response is stale"';
    headers['X-Cache-Stale-Reason'] = `GitHub could not be asked; this list is the last one fetched. ${
      list.staleReason ?? ''
    }`.trim();
  }
  return headers;
}

/** `GET /teams`: the GITHUB_ORG organisation's teams and their repositories, sorted by name. */
export async function getTeams({ context, config, query }: RouteRequest<TeamsQuery>): Promise<HttpResponse> {
  const directory = requireTeamDirectory(config, context.secrets);
  const list = await directory.getTeams({ refresh: query.no_cache ?? false });
  return jsonResponse(200, teamsBody(list, teamsShape(query)), cacheHeaders(list));
}
