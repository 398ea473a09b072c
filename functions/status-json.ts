import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import type { ContextWithSecrets } from '../lib/secrets';
import { getStatusJson } from '../lib/status/handlers';

export const handler = middy<APIGatewayProxyEventV2, HttpResponse, Error, ContextWithSecrets>()
  .use(httpStack({ secrets: true, auth: true }))
  .handler(getStatusJson);
