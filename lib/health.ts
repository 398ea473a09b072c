import { getConfig } from './config';
import { type HttpResponse, jsonResponse } from './http/response';

/** Liveness of the function itself: no upstream call, so a Loki or GitHub outage does not show here. */
export async function getHealth(): Promise<HttpResponse> {
  const config = getConfig();
  return jsonResponse(200, {
    status: 'ok',
    version: config.version,
    stage: config.stage,
    time: new Date().toISOString(),
  });
}
