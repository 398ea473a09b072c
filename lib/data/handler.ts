import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getConfig } from '../config';
import { toRecord } from '../dora/records';
import { BadRequestError } from '../errors';
import type { HttpResponse } from '../http/response';
import { jsonListResponse } from '../http/response-size';
import { noCacheRequested, parseBody, periodTooLong } from '../http/validation';
import type { ContextWithSecrets } from '../secrets';
import { dataRequestSchema } from './request';
import { deadlineOf, getDataService } from './wiring';

/** `POST /data`: the production deployment records of a period, as the DORA dashboards read them. */
export async function postData(
  event: APIGatewayProxyEventV2,
  context: ContextWithSecrets,
): Promise<HttpResponse> {
  const config = getConfig();
  const body = parseBody(dataRequestSchema, event);
  const start = Date.parse(body.start);
  const end = Date.parse(body.end);
  const tooLong = periodTooLong({ start, end }, config.maxRangeMs);
  if (tooLong !== undefined) {
    throw new BadRequestError(`Invalid request body: end: ${tooLong}`, {
      fields: [{ field: 'end', message: tooLong }],
    });
  }

  const loaded = await getDataService(config, context.secrets).loadDeployments(
    { start, end, repositories: body.repositories ?? undefined, team: body.team ?? undefined },
    { noCache: noCacheRequested(event), deadline: deadlineOf(context) },
  );
  return jsonListResponse(event, 'records', loaded.deployments, toRecord, {
    'X-Cache': loaded.cached ? 'hit' : 'miss',
  });
}
