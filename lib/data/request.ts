import * as z from 'zod';
import { MAX_REPOSITORIES, repositoryName, rfc3339DateTime, teamName } from '../http/validation';

/**
 * Body of `POST /data`, as react-dora-charts and the Backstage plugins send it:
 * `{"repositories":[...],"team":"...","start":"2023-12-08T00:00:00.000Z","end":"2024-11-27T00:00:00.000Z"}`.
 * Unknown keys are ignored and `null` counts as missing (contract).
 */
export const dataRequestSchema = z
  .object({
    start: rfc3339DateTime,
    end: rfc3339DateTime,
    repositories: z.array(repositoryName).max(MAX_REPOSITORIES).nullish(),
    team: teamName.nullish(),
  })
  .refine((body) => Date.parse(body.end) > Date.parse(body.start), {
    message: 'must be after start',
    path: ['end'],
  });

export type DataRequestBody = z.infer<typeof dataRequestSchema>;

export const dataResponseSchema = z.object({
  records: z.array(
    z.object({
      repository: z.string(),
      team: z.string().nullable(),
      title: z.string().nullable(),
      user: z.string().nullable(),
      sha: z.string(),
      status: z.boolean(),
      failed_at: z.string().nullable(),
      merged_at: z.string().nullable(),
      created_at: z.string(),
      fixed_at: z.string().nullable(),
      fixed_url: z.string().nullable(),
      deploy_url: z.string(),
      issue_url: z.string().nullable(),
      change_url: z.string(),
      total_cycle_time: z.null(),
    }),
  ),
});
