import * as z from 'zod';
import { boundedText } from '../events/schemas';
import { queryBoolean } from '../http/validation';

/**
 * The GitOps sync-status contract existing agents speak (POST /api/status, GET /status.json); field
 * names and values are theirs. Every field is required; unknown keys are ignored.
 */

export const MAX_STATUS_FILES = 1000;
export const MAX_DRIFT_COUNT = 1_000_000;

const required = {
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : undefined),
};

/** Text fields say "is required" when missing, and what is wrong otherwise. */
function requiredText(max: number) {
  return z.string(required).pipe(boundedText(max));
}

export const SYNC_STATUSES = ['SYNCED', 'OUT_OF_SYNC'] as const;

export const statusReportSchema = z
  .object({
    repo: requiredText(512).meta({
      description: 'The repository the agent watches',
      examples: ['acme/platform'],
    }),
    server: requiredText(512).meta({
      description: 'The cluster or server it syncs to',
      examples: ['prod-eu-1'],
    }),
    sync_status: z.enum(SYNC_STATUSES, {
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be SYNCED or OUT_OF_SYNC'),
    }),
    drift_count: z
      .number(required)
      .int('must be a whole number')
      .min(0, 'must not be negative')
      .max(MAX_DRIFT_COUNT, `must be at most ${MAX_DRIFT_COUNT}`),
    files: z
      .array(z.object({ name: requiredText(1024) }), required)
      .max(MAX_STATUS_FILES, `must list at most ${MAX_STATUS_FILES} files`)
      .meta({ description: 'Files that drifted' }),
    last_check: requiredText(64).meta({
      description: "When the agent last compared (the agent's own text, usually RFC 3339)",
      examples: ['2026-11-28T04:00:00Z'],
    }),
  })
  .meta({ id: 'GitOpsStatusReport' });

export type StatusReport = z.output<typeof statusReportSchema>;

export const statusAcceptedSchema = z.object({
  status: z.literal('ok'),
  message: z.literal('Status updated successfully'),
});

export const statusErrorSchema = z.object({ status: z.literal('error'), message: z.string() });

/** One entry of GET /status.json: the latest report of a repo:server pair. */
export const gitOpsStatusSchema = z
  .object({
    repo: z.string(),
    server: z.string(),
    sync_status: z.enum(SYNC_STATUSES),
    drift_count: z.number().int(),
    files: z.array(z.object({ name: z.string() })),
    last_check: z.string(),
    updated_at: z.string().meta({ description: 'When this API received the report (RFC 3339)' }),
  })
  .meta({ id: 'GitOpsStatus' });

export type GitOpsStatus = z.output<typeof gitOpsStatusSchema>;

export const statusListSchema = z.array(gitOpsStatusSchema);

export const statusQuerySchema = z.object({
  repo: boundedText(512).optional().meta({ description: 'Only this repository' }),
  server: boundedText(512).optional().meta({ description: 'Only this server' }),
});

export type StatusQuery = z.output<typeof statusQuerySchema>;

export const gitOpsHealthSchema = z.object({
  tracked_pairs: z.number().int().nullable().meta({
    description: 'repo:server pairs with a status newer than STATUS_TTL_HOURS; null when Loki failed',
  }),
  source: z.enum(['container', 'loki']).meta({
    description: '`container`: pairs this function instance saw (no upstream call); `loki`: counted in Loki',
  }),
  error: z.string().optional().meta({ description: 'Why Loki could not be asked (deep check only)' }),
});

export type GitOpsHealth = z.output<typeof gitOpsHealthSchema>;

/** Health ignores other parameters (monitors add cache-busters); `deep` alone changes the answer. */
export const healthQuerySchema = z.object({
  deep: queryBoolean.optional().meta({
    description:
      'Also count the GitOps pairs in Loki (needs a bearer token with AUTH_MODE=jwt; refused with 401 with AUTH_MODE=gateway, where API Gateway checks no token on /health)',
  }),
});

export type HealthQuery = z.output<typeof healthQuerySchema>;
