import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { getDashboard } from '../lib/dashboard/handler';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse>()
  .use(httpStack({ auth: false }))
  .handler(getDashboard);
