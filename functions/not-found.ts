import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import { answerUnmatchedRoute } from '../lib/openapi/unmatched';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse>()
  .use(httpStack({ auth: false, ignoreBody: true }))
  .handler(answerUnmatchedRoute);
