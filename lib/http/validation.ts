import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { BadRequestError } from '../errors';

/**
 * Shared input schemas and the one way a schema failure becomes a 400 naming each wrong field.
 * Every value that can reach LogQL is restricted here to what GitHub itself allows.
 */

const MIN_YEAR = 1970;
const MAX_YEAR = 2100;

function yearInRange(epochMs: number): boolean {
  const year = new Date(epochMs).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

/** RFC 3339 date-time with an offset (`Z` or `+02:00`), years 1970-2100. */
export const rfc3339DateTime = z.iso
  .datetime({ offset: true, local: false })
  .refine((text) => yearInRange(Date.parse(text)), {
    message: `year must be between ${MIN_YEAR} and ${MAX_YEAR}`,
  });

/** A calendar date `YYYY-MM-DD` that exists, years 1970-2100. */
export const isoDate = z.iso.date().refine((text) => yearInRange(Date.parse(`${text}T00:00:00Z`)), {
  message: `year must be between ${MIN_YEAR} and ${MAX_YEAR}`,
});

/** What GitHub accepts as a repository name; anything else cannot have events and never reaches LogQL. */
export const repositoryName = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,100}$/,
    'must be a GitHub repository name (letters, digits, ".", "_", "-", at most 100)',
  )
  .refine((name) => name !== '.' && name !== '..', { message: 'must be a GitHub repository name' });

/** GitHub team names are free text up to 255 characters; control characters have no place in them. */
export const teamName = z
  .string()
  .min(1)
  .max(255)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const MAX_REPOSITORIES = 500;

function toBadRequest(error: z.ZodError, where: string): BadRequestError {
  const fields = error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join('.') : where,
    message: issue.message,
  }));
  const summary = fields.map((field) => `${field.field}: ${field.message}`).join('; ');
  return new BadRequestError(`Invalid ${where}: ${summary}`, { fields });
}

/** Parses an already JSON-decoded body (see the stack's body parser); a missing body is `{}`. */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  event: APIGatewayProxyEventV2,
): z.output<Schema> {
  const body: unknown = (event as { body?: unknown }).body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('The request body must be a JSON object', {
      fields: [{ field: 'body', message: 'must be a JSON object' }],
    });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw toBadRequest(parsed.error, 'request body');
  return parsed.data;
}

/** Parses the query string parameters (API Gateway joins repeated keys with commas). */
export function parseQuery<Schema extends z.ZodType>(
  schema: Schema,
  event: APIGatewayProxyEventV2,
): z.output<Schema> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw toBadRequest(parsed.error, 'query');
  return parsed.data;
}

/** `?no_cache=true` (also `1`) bypasses the in-memory caches. */
export function noCacheRequested(event: APIGatewayProxyEventV2): boolean {
  const value = event.queryStringParameters?.no_cache?.toLowerCase();
  return value === 'true' || value === '1';
}
