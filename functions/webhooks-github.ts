import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../lib/http/response';
import { httpStack } from '../lib/http/stack';
import type { ContextWithSecrets } from '../lib/secrets';
import { deliveryOutcome, WEBHOOK_MAX_BODY_BYTES, webhookHandler } from '../lib/webhooks/handler';

// No bearer token: GitHub signs each delivery instead (X-Hub-Signature-256), checked by the handler over
// the raw body, which no middleware parses.
export const handler = middy<APIGatewayProxyEventV2, HttpResponse, Error, ContextWithSecrets>()
  .use(httpStack({ secrets: true, auth: false, rawBody: true, maxBodyBytes: WEBHOOK_MAX_BODY_BYTES }))
  .use(deliveryOutcome())
  .handler(webhookHandler);
