import * as z from 'zod';
import { CORS_ALLOWED_HEADERS } from '../http/cors';
import type { ErrorFormat } from '../http/errors';
import { statusErrorSchema } from '../status/schema';
import { type RouteDescription, routes } from './routes';
import { problemSchema } from './schemas';

/**
 * The OpenAPI 3.1 document of every route, generated from the routes' zod schemas with zod 4's
 * native JSON Schema output (draft 2020-12, the dialect OpenAPI 3.1 uses). Request schemas are
 * described as clients send them (`io: input`), responses as the API writes them.
 */

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

function jsonSchema(schema: z.ZodType, io: Io): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'A parameter is missing or wrong; `errors` names each one',
  401: 'Missing, expired or forged bearer token (with a `WWW-Authenticate: Bearer` challenge)',
  413: 'The body is larger than MAX_BODY_BYTES (or the limit the route names)',
  422: "The answer would be larger than AWS Lambda can return, or its events more than the function's memory holds; the detail says what to ask for instead",
  500: 'An unexpected error; the detail is generic, the request id leads to the log line',
  502: 'Loki or GitHub answered with an error (the detail names which and its status)',
  503: 'An upstream is unavailable or not configured (may carry Retry-After)',
  504: 'An upstream did not answer in time',
};

function errorStatuses(route: RouteDescription): number[] {
  return [
    400,
    ...(route.auth || route.optionalAuth ? [401] : []),
    ...(route.body ? [413] : []),
    ...(route.readsEvents ? [422] : []),
    500,
    ...(route.upstream ? [502, 503, 504] : []),
  ];
}

function problemResponse(status: number, format: ErrorFormat = 'problem'): JsonSchema {
  const headers =
    status === 401
      ? { 'WWW-Authenticate': { description: 'Always `Bearer`', schema: { type: 'string' } } }
      : status === 503
        ? { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string' } } }
        : undefined;
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    ...(headers ? { headers } : {}),
    content:
      format === 'status-message'
        ? { 'application/json': { schema: jsonSchema(statusErrorSchema, 'output') } }
        : { 'application/problem+json': { schema: PROBLEM_REF } },
  };
}

function queryParameters(route: RouteDescription): JsonSchema[] {
  if (!route.query) return [];
  const schema = jsonSchema(route.query, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: 'query',
      required: schema.required?.includes(name) ?? false,
      ...(description === undefined ? {} : { description }),
      schema: propertySchema,
    };
  });
}

function operation(route: RouteDescription): JsonSchema {
  const parameters = queryParameters(route);
  const responseHeaders = Object.fromEntries(
    Object.entries(route.responseHeaders ?? {}).map(([name, description]) => [
      name,
      { description, schema: { type: 'string' } },
    ]),
  );
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    // `{}` beside the scheme: OpenAPI's way to say the token may be left out.
    security: route.auth ? [{ bearerAuth: [] }] : route.optionalAuth ? [{}, { bearerAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [route.successStatus ?? 200]: {
        description: route.responseDescription,
        ...(route.responseHeaders ? { headers: responseHeaders } : {}),
        ...(route.responseMediaType === 'none'
          ? {}
          : {
              content: {
                [route.responseMediaType ?? 'application/json']: {
                  schema: jsonSchema(route.response, 'output'),
                },
              },
            }),
      },
      ...Object.fromEntries(
        Object.entries(route.otherResponses ?? {}).map(([status, { description, schema, problem }]) => [
          status,
          {
            description,
            content: {
              [problem ? 'application/problem+json' : 'application/json']: {
                schema: jsonSchema(schema, 'output'),
              },
            },
          },
        ]),
      ),
      ...Object.fromEntries(
        errorStatuses(route).map((status) => [status, problemResponse(status, route.errorFormat)]),
      ),
    },
  };
}

export interface DocumentOptions {
  version: string;
  /** The API's base URL, when known (API Gateway's own URL or a custom domain). */
  serverUrl?: string;
}

export function buildOpenApiDocument(options: DocumentOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonSchema>)[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'DORA API',
      version: options.version,
      description:
        'DORA metrics of a GitHub organisation from its delivery events in Grafana Loki. ' +
        `Browsers may send the headers ${CORS_ALLOWED_HEADERS} cross-origin from the origins in CORS_ORIGINS.`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'HS256 JWT signed with AUTH_JWT_SECRET (required only when authentication is on)',
        },
      },
    },
  };
}
