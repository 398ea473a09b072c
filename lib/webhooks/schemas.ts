import * as z from 'zod';
import { problemSchema } from '../http/errors';

/**
 * The largest body taken: GitHub's payloads of the recorded events stay far below (titles and bodies of
 * issues and pull requests are capped at 65,536 characters), and it is well under what a Lambda event may
 * carry (6 MB, API Gateway's own limit is 10 MB), so an oversized delivery gets a clear 413 from the
 * function rather than an opaque gateway error. Independent of MAX_BODY_BYTES (256 kB by default), which
 * a large pull request description could exceed.
 */
export const WEBHOOK_MAX_BODY_BYTES = 1_048_576;

/** What POST /webhooks/github answers; GitHub shows it under the webhook's Recent Deliveries. */
export const webhookResponseSchema = z
  .object({
    status: z.enum(['ok', 'written', 'duplicate', 'queued', 'ignored']).meta({
      description:
        '`ok` a ping; `written` pushed to Loki; `duplicate` Loki holds these entries already (a redelivery); ' +
        '`queued` Loki did not take them in time, kept in the outbox and forwarded later; `ignored` not an event ' +
        'the receiver records (`reason` says why)',
    }),
    event: z.string().meta({ description: 'X-GitHub-Event' }),
    action: z.string().optional(),
    delivery: z.string().meta({ description: 'X-GitHub-Delivery' }),
    repository: z.string().optional().meta({ description: '`owner/name`' }),
    entries: z.number().int().optional().meta({ description: 'Loki entries the delivery became' }),
    reason: z.string().optional(),
    message: z.string().optional(),
  })
  .meta({ id: 'WebhookResponse' });

/** The delivery: a GitHub webhook payload, signed; the receiver reads only what its events need. */
export const webhookPayloadSchema = z.looseObject({ action: z.string().optional() }).meta({
  id: 'GitHubWebhookPayload',
  description:
    'A GitHub webhook payload (https://docs.github.com/webhooks/webhook-events-and-payloads), sent with the headers ' +
    'X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256',
});

export const webhookProblemSchema = problemSchema;

/** The webhook outbox's part of GET /health (lib/webhooks/health.ts). */
export const webhookOutboxHealthSchema = z.object({
  pending: z.number().int().nullable().meta({
    description:
      'Verified webhook deliveries waiting for Loki (WEBHOOK_OUTBOX_URL); null when the store failed',
  }),
  dead_letters: z.number().int().nullable().meta({
    description: 'Deliveries Loki refused for good, kept for an operator (see docs/operations.md)',
  }),
  oldest_pending_age_seconds: z.number().int().nullable().meta({
    description: 'How long the oldest pending delivery has waited; null when none waits',
  }),
  error: z.string().optional().meta({ description: 'Why the outbox could not be read' }),
});

export type WebhookOutboxHealth = z.output<typeof webhookOutboxHealthSchema>;
