import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config';
import { logger } from '../lib/logger';
import type { ContextWithSecrets } from '../lib/secrets';
import { secretsMiddlewares } from '../lib/secrets';
import { type ReplayResult, replayWebhookBacklog } from '../lib/webhooks/replay';

/**
 * No push starts this close to the function's timeout: one in flight may take LOKI_TIMEOUT_MS per attempt
 * (10 s, 3 attempts by default), and the backlog is counted after it.
 */
const FINISH_MS = 40_000;

/** The schedule's pass over the webhook outbox: see lib/webhooks/replay.ts. */
export const handler = middy<ScheduledEvent, ReplayResult, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(secretsMiddlewares(getConfig()))
  .handler(async (_event, context) =>
    replayWebhookBacklog(getConfig(), (context as ContextWithSecrets).secrets, {
      deadline: Date.now() + context.getRemainingTimeInMillis() - FINISH_MS,
    }),
  );
