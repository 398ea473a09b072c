import { once } from 'node:events';
import { createGzip, type Gzip, gzipSync } from 'node:zlib';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpError } from '../errors';
import { type HttpResponse, serialisedJsonResponse } from './response';

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
      if (bytes > maxBytes) throw answerTooLarge(bytes, acceptsGzip(request.event));
    },
  };
}

/** Items serialised at a time: small enough that their objects are short-lived, big enough to be cheap. */
const SLICE = 2000;

function* jsonSlices<T>(items: readonly T[], toJson: (item: T) => unknown): Generator<string> {
  for (let from = 0; from < items.length; from += SLICE) {
    // Each slice is an array: its items without the brackets, joined to the others with commas.
    yield JSON.stringify(items.slice(from, from + SLICE).map(toJson)).slice(1, -1);
  }
}

/** Hands `text` to the compressor; resolves at once, or when it has room again (back-pressure). */
function queued(stream: Gzip, text: string): Promise<void> | undefined {
  return stream.write(text) ? undefined : once(stream, 'drain').then(() => undefined);
}

function ended(stream: Gzip, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.errored) return reject(stream.errored);
    stream.once('error', reject);
    stream.once('end', resolve);
    stream.end(text);
  });
}

/**
 * `{"<key>":[...]}` of `items` mapped by `toJson`, answered without ever holding all the mapped objects
 * or, for a large answer, all of its text: slices are serialised one after another and, past 1 MB for a
 * client that accepts gzip, compressed as they are made. As soon as what is compressed (or, without
 * gzip, the text) cannot fit in Lambda's answer, building stops with the 422. A year of a 300-repository
 * organisation used to build 50 MB of JSON, then refuse it.
 */
export async function jsonListResponse<T>(
  event: APIGatewayProxyEventV2,
  key: string,
  items: readonly T[],
  toJson: (item: T) => unknown,
  headers: Record<string, string> = {},
  maxBytes = MAX_RESPONSE_BYTES,
): Promise<HttpResponse> {
  const gzip = acceptsGzip(event);
  let text = `{${JSON.stringify(key)}:[`;
  let textBytes = text.length;
  let compressor: Gzip | undefined;
  const compressed: Buffer[] = [];
  let compressedBytes = 0;
  let separator = '';
  // Compression runs on libuv's thread pool: the next slice is serialised while the last is compressed.
  let room: Promise<void> | undefined;
  try {
    for (const slice of jsonSlices(items, toJson)) {
      const part = `${separator}${slice}`;
      separator = ',';
      textBytes += Buffer.byteLength(part);
      if (compressor === undefined) {
        if (!gzip || textBytes <= COMPRESS_ABOVE_BYTES) {
          if (textBytes > maxBytes) throw answerTooLarge(textBytes, gzip, true);
          text += part;
          continue;
        }
        compressor = createGzip();
        compressor.on('data', (chunk: Buffer) => {
          compressed.push(chunk);
          compressedBytes += chunk.length;
        });
        // A compression error surfaces where the stream is awaited (`once`, `ended`), not as a crash.
        compressor.on('error', () => {});
        room = queued(compressor, text);
        text = '';
      }
      await room;
      room = queued(compressor, part);
      // Base64, which Lambda needs for a binary body, adds a third.
      if (Math.ceil(compressedBytes / 3) * 4 > maxBytes) throw answerTooLarge(textBytes, true, true);
    }
    if (compressor === undefined) return serialisedJsonResponse(200, `${text}]}`, headers);
    await room;
    await ended(compressor, ']}');
  } catch (error) {
    room?.catch(() => {});
    compressor?.destroy();
    throw error;
  }
  const body = Buffer.concat(compressed).toString('base64');
  if (body.length > maxBytes) throw answerTooLarge(textBytes, true);
  return {
    ...serialisedJsonResponse(200, body, { ...headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' }),
    isBase64Encoded: true,
  };
}
