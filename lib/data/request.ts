import * as z from 'zod';
import { repositoryName } from '../dora/names';
import { MAX_REPOSITORIES, nonEmpty, rfc3339DateTime, serviceFilter, teamFilter } from '../http/validation';

/**
 * Body of `POST /data`, as react-dora-charts and the Backstage plugins send it:
 * `{"repositories":[...],"team":"...","start":"2023-12-08T00:00:00.000Z","end":"2024-11-27T00:00:00.000Z"}`,
 * or with `"service":"<name>"` (the Backstage plugin from 1.1.0 on). Unknown keys are ignored; `null`, `""` and
 * `[]` count as missing (contract): the dashboards send them for "none chosen".
 */
export const dataRequestSchema = z
  .object({
    start: rfc3339DateTime,
    end: rfc3339DateTime,
    repositories: z
      .array(repositoryName)
      .max(MAX_REPOSITORIES)
      .nullish()
      .meta({ description: 'Repository names; an empty list (like null or absent) means every repository' }),
    team: teamFilter.nullish(),
    service: serviceFilter.nullish(),
  })
  .refine((body) => Date.parse(body.end) > Date.parse(body.start), {
    message: 'must be after start',
    path: ['end'],
  });

export type DataRequestBody = z.infer<typeof dataRequestSchema>;

/** The filters a body asks for, with the dashboards' "none chosen" spellings (`""`, `[]`) as no filter. */
export function dataFilters(body: Pick<DataRequestBody, 'repositories' | 'team' | 'service'>): {
  repositories: string[] | undefined;
  team: string | undefined;
  services: string[] | undefined;
} {
  const service = nonEmpty(body.service);
  return {
    repositories: body.repositories && body.repositories.length > 0 ? body.repositories : undefined,
    team: nonEmpty(body.team),
    services: service === undefined ? undefined : [service],
  };
}

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
