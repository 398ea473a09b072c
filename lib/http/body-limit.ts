import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { PayloadTooLargeError } from '../errors';

/** How many bytes a body carries, without decoding it (base64 spends 4 characters on 3 bytes). */
export function bodyBytes(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): number {
  const body = event.body;
  if (typeof body !== 'string') return 0;
  if (!event.isBase64Encoded) return Buffer.byteLength(body, 'utf8');
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  return Math.floor((body.length * 3) / 4) - padding;
}

/**
 * Refuses bodies above `maxBytes` with a 413 before anything parses them, so a huge or deeply
 * nested document costs a length check, not a JSON parse. (API Gateway itself stops at 10 MB.)
 */
export function bodyLimit(
  maxBytes: number,
): middy.MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, Context> {
  return {
    before: async (request) => {
      const size = bodyBytes(request.event);
      if (size > maxBytes) {
        throw new PayloadTooLargeError(
          `The request body is ${size} bytes; this API accepts at most ${maxBytes} bytes`,
        );
      }
    },
  };
}
