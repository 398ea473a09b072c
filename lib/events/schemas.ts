import * as z from 'zod';
import { repositoryName, teamName } from '../dora/names';
import { rfc3339DateTime } from '../http/validation';

/**
 * Bodies of the write routes. Unknown keys are ignored and `null` counts as missing (like POST /data);
 * every string is bounded, so one event always fits Loki's line and structured-metadata limits.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Text of 1 to `max` characters without control characters. */
export function boundedText(max: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain control characters');
}

/** The reader keeps only https links (a deployment or incident page), so only those are accepted. */
export const httpsUrl = z
  .url({ protocol: /^https$/, message: 'must be an https:// URL' })
  .max(2048, 'must be at most 2048 characters')
  .meta({ examples: ['https://ci.example.com/pipelines/4711'] });

/** A commit: 7 to 64 hexadecimal digits (SHA-1 or SHA-256), stored lower-case as GitHub writes it. */
export const commitSha = z
  .string()
  .regex(/^[0-9a-fA-F]{7,64}$/, 'must be a commit sha (7 to 64 hexadecimal digits)')
  .transform((sha) => sha.toLowerCase())
  .meta({ examples: ['08bc87cf41e805e319fa9857e501d76e318cdb07'] });

/** GitHub logins: letters, digits and single hyphens; bots end with `[bot]`. */
export const githubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, 'must be a GitHub login')
  .meta({ examples: ['octocat'] });

const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);

export const deploymentStatus = z.enum(['success', 'failure'], { message: 'must be success or failure' });

export const deploymentEventSchema = z
  .object({
    repository: repositoryName,
    team: optional(teamName),
    sha: commitSha,
    environment: boundedText(255).meta({ examples: ['production'] }),
    status: deploymentStatus,
    created_at: optional(rfc3339DateTime).meta({ description: 'When the deployment happened; default now' }),
    url: optional(httpsUrl).meta({ description: 'Link to the deployment (pipeline run, rollout page)' }),
    pull_request: optional(
      z.object({
        title: boundedText(1024),
        user: githubLogin,
        merged_at: rfc3339DateTime,
      }),
    ).meta({ description: 'The pull request whose merge commit is `sha`: stored as a merged-change event' }),
  })
  .meta({ id: 'DeploymentEventRequest' });

export type DeploymentEventRequest = z.output<typeof deploymentEventSchema>;

export const incidentEventSchema = z
  .object({
    repository: repositoryName,
    id: boundedText(128).meta({
      description: "The monitoring or paging tool's own incident id; one incident per repository and id",
      examples: ['PD-Q2K4X7'],
    }),
    team: optional(teamName),
    title: optional(boundedText(1024)),
    created_at: optional(rfc3339DateTime).meta({
      description: 'When the incident began; default: the earlier report, else now',
    }),
    resolved_at: optional(rfc3339DateTime).meta({ description: 'When it was resolved; absent while open' }),
    url: optional(httpsUrl).meta({ description: 'Link to the incident page' }),
  })
  .meta({ id: 'IncidentEventRequest' });

export type IncidentEventRequest = z.output<typeof incidentEventSchema>;

/** An incident as the API answers about it (times in the API's RFC 3339 format). */
export const incidentViewSchema = z
  .object({
    repository: z.string(),
    id: z.string(),
    team: z.string().nullable(),
    title: z.string().nullable(),
    created_at: z.string(),
    resolved_at: z.string().nullable(),
    url: z.string(),
  })
  .meta({ id: 'Incident' });

export type IncidentView = z.output<typeof incidentViewSchema>;
