import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { buildOpenApiDocument } from './document';

let cachedDocument: Record<string, unknown> | undefined;

/** The server URL as the caller reached it, so generated clients point at this deployment. */
function serverUrl(event: APIGatewayProxyEventV2): string | undefined {
  const domain = event.requestContext?.domainName;
  if (!domain || domain === 'localhost' || domain.startsWith('127.')) return undefined;
  return `https://${domain}`;
}

/** `GET /openapi.json`: the OpenAPI 3.1 document of every route (no authentication). */
export async function getOpenApi({
  event,
  config,
}: Pick<RouteRequest, 'event' | 'config'>): Promise<HttpResponse> {
  cachedDocument ??= buildOpenApiDocument({ version: config.version });
  const url = serverUrl(event);
  const document = url ? { ...cachedDocument, servers: [{ url }] } : cachedDocument;
  return jsonResponse(200, document, { 'Cache-Control': 'public, max-age=300' });
}
