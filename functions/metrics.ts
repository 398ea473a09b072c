import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import { getMetrics } from '../lib/metrics/handler';
import type { ContextWithSecrets } from '../lib/secrets';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse, Error, ContextWithSecrets>()
  .use(httpStack({ secrets: true }))
  .handler(getMetrics);
