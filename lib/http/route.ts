import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import { type Config, getConfig } from '../config';
import { GatewayTimeoutError } from '../errors';
import type { ContextWithSecrets } from '../secrets';
import type { ErrorFormat } from './errors';
import type { HttpResponse } from './response';
import { httpStack, type StackOptions } from './stack';
import { parseBody, parseQuery, withoutEmptyValues } from './validation';

/**
 * One route's opening, fed by its entry of the route table (lib/openapi/routes.ts, which also feeds the
 * OpenAPI document): the stack options come from the entry, then one middleware parses and validates the
 * query string and the body with the entry's schemas, and the handler is given them with the settings:
 * `routeHandler(route('getMetrics'), getMetrics)` in functions/metrics.ts. A handler only does its work.
 * The table lives above the routes it describes (docs/development.md, Layers), so the function file hands
 * the entry in; lib/http knows only its shape.
 */

/**
 * How a route reads its query string:
 * - `strict` (the default): every parameter must be one of the schema's (a typo is a 400 naming it, never a
 *   silently different answer); a route without `query` reads none and ignores what is sent.
 * - `filters`: as `strict`, but an empty value counts as absent (Grafana sends `team=` for "All"), except the
 *   parameters named in `emptyMeaningful`, whose empty value says something.
 * - `lenient`: only the schema's parameters are read, each on its own; others, and a value that does not
 *   parse, count as absent (GET /health: monitors add cache-busters, and liveness must not answer 400).
 */
export type QueryReading = 'strict' | 'filters' | 'lenient';

/** What the stack needs to know of a route; the table's entries (RouteDescription) add the documentation. */
export interface RouteSpec {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  /** Whether a bearer token is required when authentication is on. */
  auth: boolean;
  /**
   * Whether the route calls Loki or GitHub (and so may answer 502/503/504). Such a route has its secrets
   * resolved into `context.secrets`, as has every route with `auth` (AUTH_JWT_SECRET is one).
   */
  upstream: boolean;
  query?: z.ZodObject<z.ZodRawShape>;
  /** How the query string is read (default `strict`); see QueryReading. */
  queryReading?: QueryReading;
  /** With `queryReading: 'filters'`: parameters whose empty value is read as given, not as absent. */
  emptyMeaningful?: readonly string[];
  /** The JSON body, parsed and checked with this schema (unknown keys ignored), unless `rawBody`. */
  body?: z.ZodType;
  /** The body stays the bytes that arrived, for the handler (a webhook's signature is over them); `body` only documents it. */
  rawBody?: boolean;
  /** This route's body size limit (default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** How the route writes errors (lib/http/errors.ts ErrorFormat; default problem+json). */
  errorFormat?: ErrorFormat;
}

/** What a route's handler is given: the request, the settings, and the query and body as its schemas read them. */
export interface RouteRequest<Query = undefined, Body = undefined, C extends Context = ContextWithSecrets> {
  event: APIGatewayProxyEventV2;
  context: C;
  config: Config;
  query: Query;
  body: Body;
}

type QueryOf<R> = R extends { query: infer Q extends z.ZodType } ? z.output<Q> : undefined;
type BodyOf<R> = R extends { rawBody: true }
  ? undefined
  : R extends { body: infer B extends z.ZodType }
    ? z.output<B>
    : undefined;
/** Secrets are resolved for routes with `auth` or `upstream` only (see RouteSpec.upstream). */
type ContextOf<R> = R extends { upstream: true } | { auth: true } ? ContextWithSecrets : Context;

/** The request a handler of route `R` is given. */
export type RequestOf<R extends RouteSpec> = RouteRequest<QueryOf<R>, BodyOf<R>, ContextOf<R>>;

export type RouteHandlerFunction<R extends RouteSpec> = (request: RequestOf<R>) => Promise<HttpResponse>;

/** The stack options a route's entry implies. */
export function stackOptionsOf(route: RouteSpec): StackOptions {
  return {
    auth: route.auth,
    secrets: route.upstream || route.auth,
    jsonBody: route.body !== undefined && route.rawBody !== true,
    ...(route.rawBody ? { rawBody: true } : {}),
    ...(route.maxBodyBytes === undefined ? {} : { maxBodyBytes: route.maxBodyBytes }),
    ...(route.errorFormat === undefined ? {} : { errorFormat: route.errorFormat }),
  };
}

/** Each of the schema's parameters read on its own; one that is missing or does not parse is left out. */
function lenientQuery(schema: z.ZodObject<z.ZodRawShape>, parameters: Record<string, string | undefined>) {
  const read: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const parsed = (field as z.ZodType).safeParse(parameters[name]);
    if (parsed.success && parsed.data !== undefined) read[name] = parsed.data;
  }
  return read;
}

/** The route's query string as its schema reads it (see QueryReading); undefined for a route without `query`. */
export function readQuery(route: RouteSpec, event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>) {
  const { query: schema } = route;
  if (schema === undefined) return undefined;
  const parameters = event.queryStringParameters ?? {};
  switch (route.queryReading ?? 'strict') {
    case 'lenient':
      return lenientQuery(schema, parameters);
    case 'filters': {
      const kept = new Set(route.emptyMeaningful ?? []);
      const given = Object.entries(parameters).filter(([name]) => kept.has(name));
      return parseQuery(schema, {
        queryStringParameters: { ...withoutEmptyValues(parameters), ...Object.fromEntries(given) },
      });
    }
    case 'strict':
      return parseQuery(schema, event);
  }
}

interface RouteInput {
  query: unknown;
  body: unknown;
}

const inputs = new WeakMap<APIGatewayProxyEventV2, RouteInput>();

/**
 * When Lambda's time limit comes while a handler still works (building a large answer, not waiting on an
 * upstream, which has deadlines of its own), middy stops waiting: its own error would answer a bare 500.
 */
const ANSWER_BY_TIME_LIMIT = {
  timeoutEarlyResponse: () => {
    throw new GatewayTimeoutError(
      'The answer was not ready before the function’s time limit: ask for a shorter period or fewer repositories',
    );
  },
};

/**
 * The innermost `before` of the stack: the body (as the JSON parser left it) and then the query string,
 * parsed and checked once with the route's schemas; a rejection is the usual 400 with `fields`.
 */
export function routeInput(route: RouteSpec): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResponse> {
  return {
    before: async (request) => {
      const { event } = request;
      const body = route.body === undefined || route.rawBody ? undefined : parseBody(route.body, event);
      inputs.set(event, { body, query: readQuery(route, event) });
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: middy's middleware array mixes event/result types
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, any>;

/** A route's Lambda handler, which names the routes it serves (test/functions/routes.test.ts reads them). */
export type RoutedHandler<R extends RouteSpec> = middy.MiddyfiedHandler<
  APIGatewayProxyEventV2,
  HttpResponse,
  Error,
  Context
> & { routes: readonly R[] };

/** One function may serve several routes (GET / and GET /dashboard) if they need the same stack and input. */
function sameOpening(routes: readonly RouteSpec[]): RouteSpec {
  const [first, ...others] = routes;
  if (first === undefined) throw new Error('routeHandler needs a route');
  const opening = (route: RouteSpec) =>
    [JSON.stringify(stackOptionsOf(route)), route.query, route.queryReading, route.body] as const;
  for (const other of others) {
    if (opening(other).some((part, index) => part !== opening(first)[index])) {
      throw new Error(
        `${other.operationId} does not open like ${first.operationId}: give it a function of its own`,
      );
    }
  }
  return first;
}

/**
 * A route's Lambda handler: the stack its entry implies, the parsing of its input, then `extra` middlewares
 * of its own (innermost), then `handler` with the request, the settings, and the parsed query and body.
 */
export function routeHandler<R extends RouteSpec>(
  route: R | readonly R[],
  handler: RouteHandlerFunction<R>,
): RoutedHandler<R>;
export function routeHandler<R extends RouteSpec>(
  route: R | readonly R[],
  extra: AnyMiddleware[],
  handler: RouteHandlerFunction<R>,
): RoutedHandler<R>;
export function routeHandler<R extends RouteSpec>(
  served: R | readonly R[],
  ...rest: [RouteHandlerFunction<R>] | [AnyMiddleware[], RouteHandlerFunction<R>]
): RoutedHandler<R> {
  const [extra, handler] = rest.length === 1 ? [[], rest[0]] : rest;
  const routes: readonly R[] = Array.isArray(served) ? served : [served as R];
  const route = sameOpening(routes);
  const wired = middy<APIGatewayProxyEventV2, HttpResponse, Error, Context>(ANSWER_BY_TIME_LIMIT)
    .use(httpStack(stackOptionsOf(route)))
    .use(routeInput(route))
    .use(extra)
    .handler((event, context) => {
      const input = inputs.get(event) ?? { query: undefined, body: undefined };
      return handler({ event, context, config: getConfig(), ...input } as RequestOf<R>);
    });
  return Object.assign(wired, { routes });
}
