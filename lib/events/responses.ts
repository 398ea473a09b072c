import * as z from 'zod';
import { problemSchema } from '../http/errors';
import { incidentViewSchema } from './schemas';

/** What the write routes answer (documented in the OpenAPI document; the handlers build these shapes). */

export const deploymentViewSchema = z.object({
  repository: z.string(),
  team: z.string().nullable(),
  environment: z.string(),
  sha: z.string(),
  status: z.enum(['success', 'failure']),
  created_at: z.string(),
  url: z.string().meta({ description: 'The link /data will show as deploy_url' }),
  id: z.string().meta({ description: 'Stable per repository, environment, sha, status and time' }),
});

export const changeViewSchema = z.object({
  repository: z.string(),
  sha: z.string(),
  title: z.string().nullable(),
  user: z.string().nullable(),
  merged_at: z.string(),
});

export const deploymentEventResponseSchema = z.object({
  deployment: deploymentViewSchema,
  change: changeViewSchema.nullable().meta({ description: 'The merged pull request, when one was given' }),
});

export const incidentEventResponseSchema = z.object({
  status: z.enum(['created', 'updated']),
  incident: incidentViewSchema,
});

export const incidentConflictSchema = problemSchema.extend({ incident: incidentViewSchema });
