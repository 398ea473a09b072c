import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResponse {
  return serialisedJsonResponse(statusCode, JSON.stringify(body), headers, contentType);
}

/** A response whose body is JSON text already (see `jsonListBody`). */
export function serialisedJsonResponse(
  statusCode: number,
  json: string,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResponse {
  return { statusCode, headers: { 'Content-Type': `${contentType}; charset=utf-8`, ...headers }, body: json };
}

/** Items serialised per slice: small enough that a slice's objects are short-lived, big enough to be cheap. */
const SLICE = 2000;

/**
 * `{"<key>":[...]}` for `items` mapped by `toJson`, serialised a slice at a time: the mapped objects (a
 * year of records is ~100,000 of them, bigger than their text) never all exist at once, and once the text
 * passes `maxBytes` building stops and `tooLarge` says why. Characters are counted, never more than bytes.
 */
export function jsonListBody<T>(
  key: string,
  items: readonly T[],
  toJson: (item: T) => unknown,
  maxBytes: number,
  tooLarge: (bytesSoFar: number) => Error,
): string {
  const pieces: string[] = [];
  let length = 0;
  for (let from = 0; from < items.length; from += SLICE) {
    const slice = JSON.stringify(items.slice(from, from + SLICE).map(toJson));
    // Each slice is an array: keep its items, join them with commas below.
    const piece = slice.slice(1, -1);
    length += piece.length + 1;
    if (length > maxBytes) throw tooLarge(length);
    pieces.push(piece);
  }
  return `{${JSON.stringify(key)}:[${pieces.join(',')}]}`;
}
