import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getConfig } from '../config';
import { toRecords } from '../dora/records';
import { BadRequestError } from '../errors';
import { type HttpResponse, jsonResponse } from '../http/response';
import { noCacheRequested, parseBody } from '../http/validation';
import type { ContextWithSecrets } from '../secrets';
import { dataRequestSchema } from './request';
import { deadlineOf, getDataService } from './wiring';

const DAY_MS = 86_400_000;

/** `POST /data`: the production deployment records of a period, as the DORA dashboards read them. */
export async function postData(
  event: APIGatewayProxyEventV2,
  context: ContextWithSecrets,
): Promise<HttpResponse> {
  const config = getConfig();
  const body = parseBody(dataRequestSchema, event);
  const start = Date.parse(body.start);
  const end = Date.parse(body.end);
  if (end - start > config.maxRangeMs) {
    const maxDays = Math.round(config.maxRangeMs / DAY_MS);
    throw new BadRequestError(`The period from start to end may span at most ${maxDays} days`, {
      fields: [{ field: 'end', message: `must be at most ${maxDays} days after start` }],
    });
  }

  const loaded = await getDataService(config, context.secrets).loadDeployments(
    { start, end, repositories: body.repositories ?? undefined, team: body.team ?? undefined },
    { noCache: noCacheRequested(event), deadline: deadlineOf(context) },
  );
  return jsonResponse(
    200,
    { records: toRecords(loaded.deployments) },
    { 'X-Cache': loaded.cached ? 'hit' : 'miss' },
  );
}
