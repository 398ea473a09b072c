import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { Config } from '../config';
import { HttpError } from '../errors';
import { authMiddleware } from '../http/auth';
import { getLokiWriter } from '../loki/push';
import { type ContextWithSecrets, secretsMiddlewares } from '../secrets';
import { trackedPairCount } from './registry';
import type { GitOpsHealth } from './schema';
import { latestStatuses } from './store';

/**
 * The secrets and the caller check of an authenticated route, run only when the deep check needs them, so
 * a plain /health stays free of SSM and Loki calls (the same middlewares and cache as the other routes).
 */
async function authenticate(config: Config, event: APIGatewayProxyEventV2, context: Context) {
  const request = {
    event,
    context,
    response: undefined,
    error: undefined,
    internal: {},
  } as unknown as middy.Request;
  for (const middleware of [
    ...secretsMiddlewares(config),
    // GET /health is public at the gateway: in gateway mode no caller was checked, so the deep check refuses.
    authMiddleware(config.auth, { requireGatewayClaims: true }),
  ]) {
    await middleware.before?.(request as never);
  }
  return (context as ContextWithSecrets).secrets;
}

/**
 * How many repo:server pairs are tracked. By default from this container's memory (no upstream call; on
 * AWS each function has its own containers, so it counts what this health function instance saw, usually
 * nothing); with `?deep=true` (a bearer token with AUTH_MODE=jwt; never in gateway mode, where /health has no
 * authorizer and so no caller the function can trust) counted in Loki, bounded like
 * GET /status.json. A Loki failure is reported, not thrown: the function itself is healthy.
 */
export async function gitOpsHealth(
  config: Config,
  event: APIGatewayProxyEventV2,
  context: Context,
  now: number,
  deep: boolean,
): Promise<GitOpsHealth> {
  if (!deep) {
    return { tracked_pairs: trackedPairCount(now, config.writes.statusTtlMs), source: 'container' };
  }
  const secrets = await authenticate(config, event, context);
  if (config.loki.url === undefined)
    return { tracked_pairs: null, source: 'loki', error: 'LOKI_URL is not set' };
  try {
    const result = await latestStatuses(getLokiWriter(config, secrets), config, {}, now);
    return { tracked_pairs: result.statuses.length, source: 'loki' };
  } catch (error) {
    const message = error instanceof HttpError ? error.publicMessage : undefined;
    return { tracked_pairs: null, source: 'loki', error: message ?? 'Loki could not be asked' };
  }
}
