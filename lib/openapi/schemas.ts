import * as z from 'zod';
import { LEVEL_PRESETS, LEVELS } from '../dora/levels';
import { METRICS, type MetricName } from '../dora/metrics';
import { gitOpsHealthSchema } from '../status/health';
import { webhookOutboxHealthSchema } from '../webhooks/health';

const isoDay = z.iso.date();

/**
 * Response schemas of routes whose modules do not export one. The one error shape (RFC 9457) lives with the
 * code that writes it, lib/http/errors.ts, and is named here for the document.
 */
export { problemSchema } from '../http/errors';

export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  stage: z.string(),
  time: z.iso.datetime(),
  gitops: gitOpsHealthSchema,
  webhooks: webhookOutboxHealthSchema,
});

const teamWithRepositories = z.object({ name: z.string(), repositories: z.array(z.string()) });

export const teamsResponseSchema = z.object({
  teams: z
    .union([z.array(teamWithRepositories), z.array(z.string())])
    .meta({ description: 'Teams with their repositories; team names only with `?fields=name`' }),
});

/** An OpenAPI document is open-ended JSON; only its top level is described. */
export const openApiDocumentSchema = z.looseObject({ openapi: z.string(), info: z.object({}).loose() });

const counters = {
  value: z
    .number()
    .nullable()
    .meta({ description: 'In the unit of the metric; null when there is nothing to measure' }),
  count: z.number().int().min(0).meta({ description: 'How many events the value is computed over' }),
  days: z
    .number()
    .optional()
    .meta({ description: 'deployment_frequency: days of the bucket inside the range' }),
  failed: z.number().int().optional().meta({ description: 'change_failure_rate: failed deployments' }),
  rework: z.number().int().optional().meta({ description: 'rework_rate: deployments that fixed a failure' }),
  open: z
    .number()
    .int()
    .optional()
    .meta({ description: 'time_to_restore_service: failures not restored yet' }),
  p50: z.number().nullable().optional(),
  p75: z.number().nullable().optional(),
  p90: z.number().nullable().optional(),
};

export const metricsResponseSchema = z
  .array(
    z.object({
      date: isoDay.nullable().meta({ description: 'First day of the bucket; null for interval=all' }),
      ...counters,
    }),
  )
  .meta({ description: 'One point per bucket of the period, in time order, empty buckets included' });

const periodSchema = z.object({
  start: z.iso.datetime(),
  end: z.iso.datetime().meta({ description: 'Exclusive' }),
  start_date: isoDay,
  end_date: isoDay.meta({ description: 'Inclusive: the last day of the period' }),
});

const metricSummarySchema = z.object({
  ...counters,
  unit: z.enum(['deployments/day', 'seconds', 'ratio']),
  level: z.enum(LEVELS).nullable(),
  previous_value: z.number().nullable(),
  previous_count: z.number().int().min(0),
  trend: z.enum(['up', 'down', 'flat']).nullable(),
  change_ratio: z.number().nullable(),
  improved: z.boolean().nullable(),
});

export const metricsSummaryResponseSchema = z.object({
  period: periodSchema,
  previous_period: periodSchema,
  levels_source: z.enum(LEVEL_PRESETS),
  levels_report_year: z.number().int().nullable(),
  levels_overridden: z.array(z.enum(METRICS)),
  levels_thresholds: z
    .partialRecord(
      z.enum(METRICS),
      z.partialRecord(
        z.enum(['elite', 'high', 'medium']),
        z.object({ comparison: z.enum(['<', '<=', '>', '>=']), value: z.number() }),
      ),
    )
    .meta({
      description:
        'Per metric, the bound a value must meet for elite, high and medium (the preset with DORA_LEVEL_THRESHOLDS merged over it); a value meeting none is low',
    }),
  metrics: z.object(
    Object.fromEntries(METRICS.map((name) => [name, metricSummarySchema])) as Record<
      MetricName,
      typeof metricSummarySchema
    >,
  ),
  excluded_authors: z.array(z.string()).meta({
    description:
      'The author login globs applied: exclude_authors when the request gave it, else EXCLUDE_AUTHORS; empty when nobody is left out',
    examples: [['*[bot]', 'renovate*']],
  }),
  excluded_changes: z.number().int().min(0).meta({
    description:
      'Pull requests merged in the period by authors exclude_authors (else EXCLUDE_AUTHORS) leaves out; 0 when none is excluded',
  }),
});
