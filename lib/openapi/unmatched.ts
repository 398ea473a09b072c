import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../errors';
import type { HttpResponse } from '../http/response';
import { type RouteDescription, routes } from './routes';

/**
 * What the API answers for a request no route takes: API Gateway's `$default` route (and serverless-offline's
 * copy of it under `npm start`) sends every such request here. The route table decides between the two answers,
 * so a route added to lib/openapi/routes.ts is known here without a second list.
 */

/** `/items/{id}` matches `/items/42`; a template's `{name}` stands for one non-empty path segment. */
function templatePattern(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}

function routesAt(path: string, table: readonly RouteDescription[]): RouteDescription[] {
  return table.filter((route) => templatePattern(route.path).test(path));
}

/**
 * The methods the route table serves at `path` (upper case, in table order, HEAD after GET: every GET route
 * answers HEAD, on API Gateway through deploy/head-routes.js); none for an unknown path.
 */
export function allowedMethods(path: string, table: readonly RouteDescription[] = routes): string[] {
  const methods = new Set(routesAt(path, table).map((route) => route.method.toUpperCase()));
  return [...methods].flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]));
}

/** A method worth naming back: a plain HTTP method token, not whatever a client put there. */
const METHOD_TOKEN = /^[A-Z]{1,16}$/;

/**
 * 405 with `Allow` when the path is a route of another method, else 404. Neither echoes the request's path or
 * lists the routes: GET /openapi.json does that for whoever needs it.
 */
export function unmatchedRouteError(method: string, path: string): NotFoundError | MethodNotAllowedError {
  const matched = routesAt(path, routes);
  if (matched.length === 0) {
    return new NotFoundError('No route matches this path; GET /openapi.json lists the routes of this API');
  }
  const allowed = allowedMethods(path);
  const asked = method.toUpperCase();
  // The route's own template, not the request's path: nothing of the request is echoed but a method token.
  return new MethodNotAllowedError(
    `${matched[0]?.path} answers ${allowed.slice(0, -1).join(', ')}${allowed.length > 1 ? ' and ' : ''}${allowed.at(-1)} only${METHOD_TOKEN.test(asked) ? `, not ${asked}` : ''}`,
    allowed,
  );
}

/** The handler behind the `$default` route: every request it receives is one no other route matched. */
export async function answerUnmatchedRoute(event: APIGatewayProxyEventV2): Promise<HttpResponse> {
  throw unmatchedRouteError(event.requestContext?.http?.method ?? 'GET', event.rawPath ?? '/');
}
