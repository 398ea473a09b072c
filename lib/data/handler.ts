import { toRecord } from '../dora/records';
import type { ProductionDeployment } from '../dora/types';
import { BadRequestError } from '../errors';
import type { HttpResponse } from '../http/response';
import { jsonListResponse } from '../http/response-size';
import type { RouteRequest } from '../http/route';
import { type NoCacheQuery, periodTooLong } from '../http/validation';
import { rollupsHeaders } from '../loki/closed-days';
import { recordsPlan } from '../plan/read-plan';
import { type DataRequestBody, dataFilters } from './request';
import { deadlineOf, getDataService } from './wiring';

/** `POST /data`: the production deployment records of a period, as the DORA dashboards read them. */
export async function postData({
  event,
  context,
  config,
  query,
  body,
}: RouteRequest<NoCacheQuery, DataRequestBody>): Promise<HttpResponse> {
  const start = Date.parse(body.start);
  const end = Date.parse(body.end);
  const tooLong = periodTooLong({ start, end }, config.maxRangeMs);
  if (tooLong !== undefined) {
    throw new BadRequestError(`Invalid request body: end: ${tooLong}`, {
      fields: [{ field: 'end', message: tooLong }],
    });
  }

  const filters = dataFilters(body);
  const { records, readStart } = recordsPlan({ route: 'data', window: { start, end } }, config.lookaroundMs);
  const loaded = await getDataService(config, context.secrets).loadDeployments(
    { ...records, readStart, ...filters },
    { noCache: query.no_cache ?? false, deadline: deadlineOf(context) },
  );
  // Records of a team filter carry the team as the request spells it (a slug, a name): react-dora-charts keeps
  // only `record.team === props.team` of what it receives.
  const { team } = filters;
  const write =
    team === undefined ? toRecord : (deployment: ProductionDeployment) => ({ ...toRecord(deployment), team });
  return jsonListResponse(event, 'records', loaded.deployments, write, {
    'X-Cache': loaded.cached ? 'hit' : 'miss',
    ...rollupsHeaders(loaded),
  });
}
