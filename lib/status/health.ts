import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { Config } from '../config';
import { HttpError } from '../errors';
import { authMiddleware } from '../http/auth';
import { queryBoolean } from '../http/validation';
import { getLokiWriter } from '../loki/push';
import { type ContextWithSecrets, secretsMiddlewares } from '../secrets';
import { trackedPairCount } from './registry';
import { latestStatuses } from './store';

export const gitOpsHealthSchema = z.object({
  tracked_pairs: z.number().int().nullable().meta({
    description: 'repo:server pairs with a status newer than STATUS_TTL_HOURS; null when Loki failed',
  }),
  source: z.enum(['container', 'loki']).meta({
    description: '`container`: pairs this function instance saw (no upstream call); `loki`: counted in Loki',
  }),
  error: z.string().optional().meta({ description: 'Why Loki could not be asked (deep check only)' }),
});

export type GitOpsHealth = z.output<typeof gitOpsHealthSchema>;

/** Health ignores other parameters (monitors add cache-busters); `deep` alone changes the answer. */
export const healthQuerySchema = z.object({
  deep: queryBoolean.optional().meta({
    description:
      'Also count the GitOps pairs in Loki (needs a bearer token with AUTH_MODE=jwt; refused with 401 with AUTH_MODE=gateway, where API Gateway checks no token on /health)',
  }),
});

export function deepRequested(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>): boolean {
  const parsed = healthQuerySchema.safeParse({ deep: event.queryStringParameters?.deep });
  return parsed.success && parsed.data.deep === true;
}

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
): Promise<GitOpsHealth> {
  if (!deepRequested(event)) {
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
