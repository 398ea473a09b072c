import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import { getOpenApi } from '../lib/openapi/handler';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse>()
  .use(httpStack({ auth: false }))
  .handler(getOpenApi);
