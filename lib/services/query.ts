import * as z from 'zod';
import { queryBoolean, teamFilter } from '../http/validation';

/** The query string and the answer of `GET /services` (lib/services/handler.ts), as the route table names them. */

export const servicesQuerySchema = z.object({
  team: teamFilter.optional().meta({
    description:
      "Only the services of this GitHub team (name or slug): the team's repositories, as the collector names services after them. Needs GitHub (GITHUB_ORG, GITHUB_TOKEN): without it a 400 naming the missing setting",
  }),
  no_cache: queryBoolean.optional().meta({ description: 'Ask Loki now instead of the cache' }),
});

export const servicesResponseSchema = z.object({
  services: z.array(z.string()).meta({ description: 'Values of the `service_name` label, sorted' }),
});

export type ServicesQuery = z.output<typeof servicesQuerySchema>;
