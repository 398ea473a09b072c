import type middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { plainName, repositoryName } from '../dora/names';
import { BadRequestError } from '../errors';
import { DAY_MS } from '../time';

/**
 * Shared request validation: every query string and body goes through a zod schema, and every
 * rejection becomes one BadRequestError whose `fields` name each offending parameter.
 * Query strings are strict (an unknown flag is a 400 naming it, so a typo never silently changes
 * an answer); JSON bodies ignore unknown keys, as existing dashboard clients expect (contract).
 */

export const MAX_REPOSITORIES = 500;
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2100;

/**
 * A team filter of a read route: a team name or slug, where `""` means every team, as react-dora-charts and the
 * Backstage plugins send it when no team is chosen.
 */
export const teamFilter = plainName.meta({
  description: 'Name or slug of a GitHub team; `""` (like null or absent) means every team',
  examples: ['Platform Team'],
});

/**
 * A service filter of a read route: a value of the `service_name` label (the OpenTelemetry `service.name`,
 * which the collector sets to the repository name), as GET /services lists them; `""` means every service.
 */
export const serviceFilter = plainName.meta({
  description:
    'A service of GET /services (the `service_name` label of the events); `""` (like null or absent) means every service',
  examples: ['checkout-service'],
});

/** `""` of a filter means no filter (dashboards send it for "none chosen"). */
export function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

export const repositoryList = z
  .array(repositoryName)
  .max(MAX_REPOSITORIES, `must list at most ${MAX_REPOSITORIES} repositories`);

function yearIsSane(text: string): boolean {
  const year = new Date(text).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

const YEAR_MESSAGE = `must be a date between the years ${MIN_YEAR} and ${MAX_YEAR}`;

/**
 * One message per mistake: a malformed date is told its format only (the year check and the schemas' checks
 * across fields, such as "end after start", stop there), and a missing (or `null`) one that it is required.
 */
function dateMessage(format: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined || issue.input === null ? 'is required' : format;
}

/** An RFC 3339 date-time with `Z` or an offset (fractional seconds allowed), in the years 1970 to 2100. */
export const rfc3339DateTime = z.iso
  .datetime({
    offset: true,
    error: dateMessage('must be an RFC 3339 date-time such as 2024-01-31T00:00:00Z'),
    abort: true,
  })
  .refine(yearIsSane, { message: YEAR_MESSAGE, abort: true })
  .meta({ examples: ['2024-01-31T00:00:00Z'] });

/** A calendar date `YYYY-MM-DD` in the years 1970 to 2100. */
export const isoDate = z.iso
  .date({ error: dateMessage('must be a date such as 2024-01-31'), abort: true })
  .refine(yearIsSane, { message: YEAR_MESSAGE, abort: true })
  .meta({ examples: ['2024-01-31'] });

/** A query-string switch: `true`/`false`/`1`/`0`, as Grafana and curl users write them. */
export const queryBoolean = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

export type FieldProblem = { field: string; message: string };

/** One entry per offending parameter; an unknown key is named by itself. */
export function fieldProblems(error: z.ZodError, root: string): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const field = issue.path.length === 0 ? root : issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: issue.path.length === 0 ? key : `${field}.${key}`,
        message: 'is not a known parameter',
      }));
    }
    return [{ field, message: issue.message }];
  });
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  root: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields = fieldProblems(parsed.error, root);
  const summary = fields.map((problem) => `${problem.field} ${problem.message}`).join('; ');
  throw new BadRequestError(`Invalid ${what}: ${summary}`, { fields });
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * Parses the query string (API Gateway has already joined repeated keys with commas) and rejects
 * unknown parameters. A route without query parameters passes `z.object({})`.
 */
export function parseQuery<S extends ObjectSchema>(
  schema: S,
  event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>,
): z.output<S> {
  const strict = schema.strict() as unknown as S;
  return parseOrThrow(strict, event.queryStringParameters ?? {}, 'query string', 'query');
}

/**
 * Grafana sends `team=` for an empty template variable: an empty value counts as absent (a route's
 * `queryReading: 'filters'`, lib/http/route.ts). Apply to the query string before parsing it.
 */
export function withoutEmptyValues(
  parameters: Record<string, string | undefined> | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parameters ?? {}).filter((entry): entry is [string, string] => (entry[1] ?? '') !== ''),
  );
}

// Scripts often POST JSON without a JSON content type (curl -d): parse the body whatever the header
// says (an option @middy/http-json-body-parser 6 supports but does not declare in its types).
const JSON_BODY_OPTIONS = { disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0];

/**
 * The stack's JSON body parser: @middy/http-json-body-parser, except that an empty body stays
 * `undefined` (middy would answer 415), so the route's schema names the fields it requires.
 * Malformed JSON becomes a 400 in lib/http/errors.ts.
 */
export function jsonBodyParser(): middy.MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, Context> {
  const middyParser = httpJsonBodyParser(JSON_BODY_OPTIONS) as middy.MiddlewareObj<
    APIGatewayProxyEventV2,
    unknown,
    Error,
    Context
  >;
  return {
    before: async (request) => {
      // serverless-offline passes `null` for an empty body where API Gateway leaves `body` out.
      const body: string | null | undefined = request.event.body;
      if (body === undefined || body === null || body.trim() === '') {
        delete request.event.body;
        return;
      }
      return middyParser.before?.(request);
    },
  };
}

/**
 * The stack's guard for routes that read no body (the GET routes): a body sent anyway is a 400 rather than
 * silently ignored, as strict as their query strings.
 */
export function refuseBody(): middy.MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, Context> {
  return {
    before: async (request) => {
      const body: string | null | undefined = request.event.body;
      if (body === undefined || body === null || body === '') return;
      throw new BadRequestError(
        `${request.event.requestContext?.http?.method ?? 'This'} ${request.event.rawPath ?? 'route'} takes no request body`,
        {
          fields: [{ field: 'body', message: 'must be empty' }],
        },
      );
    },
  };
}

/**
 * The route's body, decoded by the stack's JSON parser and checked by `schema`. A missing or `null`
 * body counts as `{}` (the schema then names the required fields); anything but a JSON object is refused.
 */
export function parseBody<S extends z.ZodType>(schema: S, event: { body?: unknown }): z.output<S> {
  const body = event.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('The request body must be a JSON object', {
      fields: [{ field: 'body', message: 'must be a JSON object' }],
    });
  }
  return parseOrThrow(schema, body, 'request body', 'body');
}

/** The query string of routes whose only flag is the cache bypass. */
export const noCacheQuery = z.object({
  no_cache: queryBoolean.optional().meta({ description: 'Bypass the in-memory caches' }),
});

export type NoCacheQuery = z.output<typeof noCacheQuery>;

/** Why a period is longer than MAX_RANGE_DAYS allows, or undefined when it fits (one rule for every route). */
export function periodTooLong(range: { start: number; end: number }, maxRangeMs: number): string | undefined {
  if (range.end - range.start <= maxRangeMs) return undefined;
  return `the period may span at most ${Math.round(maxRangeMs / DAY_MS)} days (MAX_RANGE_DAYS)`;
}
