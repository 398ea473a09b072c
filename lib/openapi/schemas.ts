import { z } from 'zod';

/**
 * Response schemas of routes whose modules do not export one, and the one error shape
 * (lib/http/errors.ts `ProblemDetails`, RFC 9457) every route answers with when it fails.
 */

export const problemSchema = z
  .object({
    type: z.literal('about:blank'),
    title: z.string().meta({ description: 'The HTTP status text' }),
    status: z.number().int().min(400).max(599),
    detail: z.string().meta({ description: 'What went wrong; for 5xx a safe text without internal detail' }),
    requestId: z.string().optional().meta({ description: 'The Lambda request id, also on every log line' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'One entry per rejected parameter (400 only)' }),
  })
  .meta({ description: 'RFC 9457 problem details' });

export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  stage: z.string(),
  time: z.iso.datetime(),
});

const teamWithRepositories = z.object({ name: z.string(), repositories: z.array(z.string()) });

export const teamsResponseSchema = z.object({
  teams: z
    .union([z.array(teamWithRepositories), z.array(z.string())])
    .meta({ description: 'Teams with their repositories; team names only with `?fields=name`' }),
});

/** An OpenAPI document is open-ended JSON; only its top level is described. */
export const openApiDocumentSchema = z.looseObject({ openapi: z.string(), info: z.object({}).loose() });
