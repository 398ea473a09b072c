import * as z from 'zod';
import { queryBoolean } from '../http/validation';

/** `name`: names only, as liatrio-dora-api v1.3.2 and the Backstage plugin read them. */
export type TeamsShape = 'full' | 'name';

const FIELD_SETS: Record<string, TeamsShape> = {
  name: 'name',
  'name,repositories': 'full',
  'repositories,name': 'full',
};

export const teamsQuerySchema = z.object({
  fields: z
    .string()
    .transform((value) => value.replace(/\s+/g, ''))
    .refine(
      // Own keys only: `in` also matches what every object inherits (`constructor`, `toString`).
      (value) => Object.hasOwn(FIELD_SETS, value),
      'must be "name" (names only) or "name,repositories" (the default)',
    )
    .optional()
    .meta({ description: 'Which fields of each team to send: `name` answers a list of team names' }),
  no_cache: queryBoolean.optional().meta({ description: 'Fetch the teams from GitHub instead of the cache' }),
});

export type TeamsQuery = z.output<typeof teamsQuerySchema>;

/** The shape `?fields=` asks for (the full one without it). */
export function teamsShape(query: Pick<TeamsQuery, 'fields'>): TeamsShape {
  return query.fields === undefined ? 'full' : (FIELD_SETS[query.fields] ?? 'full');
}
