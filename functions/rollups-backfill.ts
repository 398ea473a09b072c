import middy from '@middy/core';
import { type JobSummary, jobMiddlewares, runBackfill } from '../lib/rollups/handlers';
import type { ContextWithSecrets } from '../lib/secrets';

export const handler = middy<unknown, JobSummary, Error, ContextWithSecrets>()
  .use(jobMiddlewares())
  .handler((event, context) => runBackfill(event, context));
