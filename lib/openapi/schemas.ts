import * as z from 'zod';
import { LEVEL_PRESETS, LEVELS } from '../dora/levels';
import { METRICS } from '../dora/metrics';
import { CATEGORIES, DORA_GUIDE_URL, RECOVERY_ALIAS, type SummaryMetricName } from '../dora/vocabulary';
import { gitOpsHealthSchema } from '../status/schema';
import { webhookOutboxHealthSchema } from '../webhooks/schemas';

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
  dora_name: z.string().meta({ description: "DORA's name of the metric", examples: ['Change fail rate'] }),
  category: z.enum(['throughput', 'instability']).meta({ description: 'The DORA category of the metric' }),
  definition: z
    .string()
    .meta({ description: 'What DORA measures and how this API measures it, in one sentence' }),
  definition_url: z
    .url()
    .meta({ description: 'The DORA page the definition follows', examples: [DORA_GUIDE_URL] }),
});

const SUMMARY_METRICS: readonly SummaryMetricName[] = [...METRICS, RECOVERY_ALIAS];

const repositoryMetricSchema = metricSummarySchema.omit({
  dora_name: true,
  category: true,
  definition: true,
  definition_url: true,
});

/** An object of metric summaries under the given names. */
const metricSummaries = (names: readonly SummaryMetricName[]) =>
  z.object(
    Object.fromEntries(names.map((name) => [name, metricSummarySchema])) as Record<
      SummaryMetricName,
      typeof metricSummarySchema
    >,
  );

const levelBoundsSchema = z.partialRecord(
  z.enum(['elite', 'high', 'medium']),
  z.object({ comparison: z.enum(['<', '<=', '>', '>=']), value: z.number() }),
);

export const metricsSummaryResponseSchema = z.object({
  period: periodSchema,
  previous_period: periodSchema,
  levels_source: z.enum(LEVEL_PRESETS),
  levels_report_year: z.number().int().nullable(),
  levels_overridden: z.array(z.enum(METRICS)),
  levels_thresholds: z
    .partialRecord(z.enum(SUMMARY_METRICS as [SummaryMetricName, ...SummaryMetricName[]]), levelBoundsSchema)
    .meta({
      description:
        'Per metric, the bound a value must meet for elite, high and medium (the preset with DORA_LEVEL_THRESHOLDS merged over it); a value meeting none is low. Recovery time also under failed_deployment_recovery_time',
    }),
  metrics: metricSummaries(SUMMARY_METRICS).meta({
    description:
      "The five metrics under the names of GET /metrics; failed_deployment_recovery_time is DORA's current name of time_to_restore_service (the same values)",
  }),
  throughput: metricSummaries(CATEGORIES.throughput).meta({
    description:
      "DORA's throughput metrics: change lead time, deployment frequency, failed deployment recovery time",
  }),
  instability: metricSummaries(CATEGORIES.instability).meta({
    description: "DORA's instability metrics: change fail rate, deployment rework rate",
  }),
  repositories: z
    .array(
      z.object({
        repository: z.string(),
        team: z
          .string()
          .nullable()
          .meta({ description: 'The team of its deployments; null when none names one' }),
        attention: z.object({
          worst_level: z
            .enum(LEVELS)
            .nullable()
            .meta({ description: "The worst level of the repository's metrics" }),
          at_worst_level: z.array(z.enum(METRICS)).meta({ description: 'The metrics at that level' }),
          open_failures: z
            .number()
            .int()
            .min(0)
            .meta({ description: 'Failures of the period not recovered yet' }),
        }),
        excluded_changes: z.number().int().min(0),
        metrics: z.object(
          Object.fromEntries(SUMMARY_METRICS.map((name) => [name, repositoryMetricSchema])) as Record<
            SummaryMetricName,
            typeof repositoryMetricSchema
          >,
        ),
      }),
    )
    .optional()
    .meta({
      description:
        'With group_by=repository: every repository of the view, what needs attention first (worst level, then more metrics at it, more failures still open, higher change fail rate, name); the metrics as in `metrics`, without the vocabulary',
    }),
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
