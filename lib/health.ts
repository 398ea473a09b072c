import type { Context } from 'aws-lambda';
import { type HttpResponse, jsonResponse } from './http/response';
import type { RouteRequest } from './http/route';
import { gitOpsHealth } from './status/health';
import type { HealthQuery } from './status/schema';
import { webhookOutboxHealth } from './webhooks/health';

/**
 * Liveness of the function itself: no upstream call by default, so a Loki or GitHub outage does not
 * show here. `?deep=true` also counts the GitOps repo:server pairs in Loki (see gitOpsHealth). The webhook
 * outbox's backlog is one listing of its store (S3 on AWS), bounded in time.
 */
export async function getHealth({
  event,
  context,
  config,
  query,
}: RouteRequest<HealthQuery, undefined, Context>): Promise<HttpResponse> {
  const now = Date.now();
  return jsonResponse(200, {
    status: 'ok',
    version: config.version,
    stage: config.stage,
    time: new Date(now).toISOString(),
    gitops: await gitOpsHealth(config, event, context, now, query.deep === true),
    webhooks: await webhookOutboxHealth(config, now),
  });
}
