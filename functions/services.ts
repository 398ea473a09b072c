import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import type { ContextWithSecrets } from '../lib/secrets';
import { getServices } from '../lib/services/handler';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse, Error, ContextWithSecrets>()
  .use(httpStack({ secrets: true }))
  .handler(getServices);
