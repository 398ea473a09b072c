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

export function acceptsGzip(event: APIGatewayProxyEventV2): boolean {
  const header = event.headers?.['accept-encoding'] ?? event.headers?.['Accept-Encoding'] ?? '';
  return /(^|[\s,])gzip(?!;q=0(\.0+)?(\s*(,|$)))/i.test(header);
}

/**
 * The longest body (in bytes of JSON) that may still be returned to this client: past it a handler can
 * stop building its answer (see `jsonListBody`) instead of finishing tens of MB only to refuse them.
 */
export function largestAnswerBytes(event: APIGatewayProxyEventV2, maxBytes = MAX_RESPONSE_BYTES): number {
  // Records gzip about 9x and base64 adds a third: past 8x the limit, compressing is wasted work and memory.
  return acceptsGzip(event) ? maxBytes * HOPELESS_RATIO : maxBytes;
}

/** The 422 for an answer that cannot be returned; `atLeast` when building stopped before the end. */
export function answerTooLarge(bytes: number, gzip: boolean, atLeast = false): HttpError {
  const megabytes = (bytes / 1_000_000).toFixed(1);
  return new HttpError(
    422,
    `The answer would be ${atLeast ? 'more than ' : ''}${megabytes} MB, more than AWS Lambda can return (6 MB${gzip ? ' even gzipped' : '; send Accept-Encoding: gzip'}): ask for a shorter period or fewer repositories`,
  );
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
      if (acceptsGzip(request.event) && bytes <= largestAnswerBytes(request.event, maxBytes)) {
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
      if (bytes > maxBytes) throw answerTooLarge(bytes, acceptsGzip(request.event));
    },
  };
}
