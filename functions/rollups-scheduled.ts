import middy from '@middy/core';
import { type JobSummary, jobMiddlewares, runScheduledRollup } from '../lib/rollups/handlers';
import type { ContextWithSecrets } from '../lib/secrets';

export const handler = middy<unknown, JobSummary, Error, ContextWithSecrets>()
  .use(jobMiddlewares())
  .handler((_event, context) => runScheduledRollup(context));
