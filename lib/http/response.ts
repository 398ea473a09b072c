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

/** A response whose body is JSON text already (see `jsonListResponse` in response-size.ts). */
export function serialisedJsonResponse(
  statusCode: number,
  json: string,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResponse {
  return { statusCode, headers: { 'Content-Type': `${contentType}; charset=utf-8`, ...headers }, body: json };
}
