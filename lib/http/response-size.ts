import { gzipSync } from 'node:zlib';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpError } from '../errors';
import type { HttpResponse } from './response';

/**
 * Lambda refuses a synchronous answer over 6 MB (6,291,556 bytes for the whole JSON envelope, where the
 * body's quotes are escaped), and API Gateway then sends a bare 500. Bodies over 1 MB are gzipped for
 * clients that accept it (browsers always do; records compress about 9x), which lets a year of ~80,000
 * records through; an answer that still cannot fit is refused with a 422 saying what to ask for instead.
 */
export const MAX_RESPONSE_BYTES = 5_800_000;
const COMPRESS_ABOVE_BYTES = 1_048_576;
const HOPELESS_RATIO = 8;

type Request = middy.Request<APIGatewayProxyEventV2, HttpResponse | undefined, Error, Context>;

function acceptsGzip(event: APIGatewayProxyEventV2): boolean {
  const header = event.headers?.['accept-encoding'] ?? event.headers?.['Accept-Encoding'] ?? '';
  return /(^|[\s,])gzip(?!;q=0(\.0+)?(\s*(,|$)))/i.test(header);
}

export function responseSizeLimit(
  maxBytes = MAX_RESPONSE_BYTES,
): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResponse | undefined, Error, Context> {
  return {
    after: async (request: Request) => {
      const response = request.response;
      if (!response || typeof response.body !== 'string' || response.isBase64Encoded) return;
      const bytes = Buffer.byteLength(response.body);
      if (bytes <= COMPRESS_ABOVE_BYTES) return;
      // Records gzip about 9x and base64 adds a third: past 8x the limit, compressing is wasted work and memory.
      if (acceptsGzip(request.event) && bytes <= maxBytes * HOPELESS_RATIO) {
        const gzipped = gzipSync(response.body).toString('base64');
        if (gzipped.length <= maxBytes) {
          request.response = {
            ...response,
            statusCode: response.statusCode,
            body: gzipped,
            isBase64Encoded: true,
            headers: { ...response.headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' },
          };
          return;
        }
      }
      if (bytes > maxBytes) {
        const megabytes = (bytes / 1_000_000).toFixed(1);
        throw new HttpError(
          422,
          `The answer would be ${megabytes} MB, more than AWS Lambda can return (6 MB${acceptsGzip(request.event) ? ' even gzipped' : '; send Accept-Encoding: gzip'}): ask for a shorter period or fewer repositories`,
        );
      }
    },
  };
}
