import { BadRequestError } from '../errors';
import { findTeam, requireTeamDirectory } from '../github/directory';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { getServiceCatalog } from './catalog';
import type { ServicesQuery } from './query';

/** A 400, not the 500 of GET /teams: the list works without GitHub, only this filter does not. */
function unavailableTeamFilter(missing: string): BadRequestError {
  return new BadRequestError(
    `The team filter of GET /services needs GitHub's team ownership, and ${missing}; leave out team to list every service`,
    { fields: [{ field: 'team', message: `needs GitHub: ${missing}` }] },
  );
}

/**
 * `GET /services`: the services (`service_name` label) of the configured namespace, as the Backstage DORA plugin
 * from 1.1.0 on reads them (`dora.serviceListEndpoint: services`, `{"services": [...]}`).
 */
export async function getServices({
  context,
  config,
  query,
}: RouteRequest<ServicesQuery>): Promise<HttpResponse> {
  const { team } = query;
  // Loki's label-values API takes label matchers only, and team_name is not an index label: GitHub's ownership
  // decides. Without GitHub, team_name could only be read from every line of the namespace over MAX_RANGE_DAYS
  // (a LogQL count over one year of the benchmark organisation took 26.9 s on the real Loki), far beyond a list
  // a dashboard fills a menu from: the client is told, before Loki is asked, to leave out the filter.
  const directory =
    team === undefined ? undefined : requireTeamDirectory(config, context.secrets, unavailableTeamFilter);
  const list = await getServiceCatalog(config, context.secrets).getServices({
    refresh: query.no_cache ?? false,
  });
  let { services } = list;
  if (directory !== undefined && team !== undefined) {
    // An unknown team owns nothing.
    const owned = new Set(findTeam((await directory.getTeams()).teams, team)?.repositories ?? []);
    services = services.filter((service) => owned.has(service));
  }
  return jsonResponse(200, { services }, { 'X-Cache': list.cache });
}
