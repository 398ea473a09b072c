import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { getConfig } from '../config';
import { findTeam, requireTeamDirectory } from '../github/directory';
import { type HttpResponse, jsonResponse } from '../http/response';
import { parseFilterQuery, queryBoolean, teamFilter } from '../http/validation';
import type { ContextWithSecrets } from '../secrets';
import { getServiceCatalog } from './catalog';

export const servicesQuerySchema = z.object({
  team: teamFilter.optional().meta({
    description:
      "Only the services of this GitHub team (name or slug): the team's repositories, as the collector names services after them",
  }),
  no_cache: queryBoolean.optional().meta({ description: 'Ask Loki now instead of the cache' }),
});

export const servicesResponseSchema = z.object({
  services: z.array(z.string()).meta({ description: 'Values of the `service_name` label, sorted' }),
});

/**
 * `GET /services`: the services (`service_name` label) of the configured namespace, as the Backstage DORA plugin
 * from 1.1.0 on reads them (`dora.serviceListEndpoint: services`, `{"services": [...]}`).
 */
export async function getServices(
  event: APIGatewayProxyEventV2,
  context: ContextWithSecrets,
): Promise<HttpResponse> {
  const config = getConfig();
  const query = parseFilterQuery(servicesQuerySchema, event);
  const list = await getServiceCatalog(config, context.secrets).getServices({
    refresh: query.no_cache ?? false,
  });
  let { services } = list;
  if (query.team !== undefined) {
    // Loki's label-values API takes label matchers only, and team_name is not an index label: GitHub's ownership
    // decides. An unknown team owns nothing.
    const { teams } = await requireTeamDirectory(config, context.secrets).getTeams();
    const owned = new Set(findTeam(teams, query.team)?.repositories ?? []);
    services = services.filter((service) => owned.has(service));
  }
  return jsonResponse(200, { services }, { 'X-Cache': list.cache });
}
