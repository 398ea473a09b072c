import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { Config } from '../config';
import { BadRequestError, HttpError } from '../errors';
import { getTeamDirectory } from '../github/directory';
import type { TeamDirectory } from '../github/types';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { logger } from '../logger';
import { connectionKey, lokiSettingsFrom } from '../loki/client';
import { logqlString } from '../loki/logql';
import { createLokiWriter, INDEX_LABELS, type LokiWriter } from '../loki/push';
import type { LokiEntry } from '../loki/types';
import { boundedMemo } from '../memo';
import { recordWebhookDelivery } from '../observability/metrics';
import type { Secrets } from '../secrets';
import { type Mapped, mapDelivery, type RepositoryRef } from './map';
import type { DeliveryOutbox } from './outbox';
import { getDeliveryOutbox } from './store-outbox';
import { rawBody, verifySignature, WebhookNotConfiguredError, WebhookSignatureError } from './verify';

/**
 * `POST /webhooks/github`: GitHub's deliveries, verified, turned into the collector's Loki entries and
 * pushed. GitHub waits 10 s for a 2xx and never retries by itself, so Loki gets a short budget and a
 * delivery it does not take in time goes to the outbox (202): verified deliveries are never lost.
 */

/**
 * Loki's share of GitHub's 10 s: one attempt each for the look-up and the push (no retries: the outbox
 * is the retry), leaving time for a cold start, the team directory and the outbox.
 */
const LOKI_LOOKUP_TIMEOUT_MS = 2_000;
const LOKI_PUSH_TIMEOUT_MS = 3_000;
/**
 * The team directory's share: a cold container lists every team of the organisation first, which can take
 * longer than GitHub waits. Past this the delivery is written without team; the listing goes on and serves
 * the next deliveries from the cache.
 */
const TEAM_LOOKUP_TIMEOUT_MS = 2_500;

export type Outcome =
  | 'written'
  | 'duplicate'
  | 'queued'
  | 'ignored'
  | 'ping'
  | 'unauthorized'
  | 'not_configured'
  | 'rejected'
  | 'failed';

/** What the receiver learnt about a delivery, for its one log line and metric (never a payload or header value). */
interface DeliveryFacts {
  /** Set only once the signature verified: GitHub's names, not arbitrary caller text. */
  event?: string;
  action?: string;
  delivery?: string;
  repository?: string;
  outcome?: Outcome;
}

const facts = new WeakMap<Context, DeliveryFacts>();

function factsOf(context: Context): DeliveryFacts {
  let known = facts.get(context);
  if (known === undefined) {
    known = {};
    facts.set(context, known);
  }
  return known;
}

export interface WebhookDeps {
  writer(config: Config, secrets: Secrets): Pick<LokiWriter, 'push' | 'newest'>;
  outbox(config: Config): DeliveryOutbox;
  teams(config: Config, secrets: Secrets): TeamDirectory | undefined;
  now(): number;
}

const writers = boundedMemo<LokiWriter>(8);

/** The reader's Loki connection with the receiver's own budget (one attempt, short timeouts). */
function webhookWriter(config: Config, secrets: Secrets): LokiWriter {
  const settings = { ...lokiSettingsFrom(config, secrets), timeoutMs: LOKI_PUSH_TIMEOUT_MS, maxRetries: 0 };
  return writers(connectionKey(settings), () => createLokiWriter(settings));
}

export const defaultDeps: WebhookDeps = {
  writer: webhookWriter,
  outbox: getDeliveryOutbox,
  teams: getTeamDirectory,
  now: Date.now,
};

const EVENT_NAME = /^[a-z_]{1,64}$/;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const value = event.headers?.[name];
  return value === undefined || value === '' ? undefined : value;
}

let secretHintLogged = false;

/** Once per container: say what is missing and where it goes, never anything about a request. */
function logMissingSecret(config: Config): void {
  if (secretHintLogged) return;
  secretHintLogged = true;
  logger.warn(
    config.stage === 'local'
      ? 'GITHUB_WEBHOOK_SECRET is not set: every webhook delivery is refused. Put a long random value in .env ' +
          '(GITHUB_WEBHOOK_SECRET=...), the same as the secret of the webhook on GitHub, and restart npm start'
      : 'GITHUB_WEBHOOK_SECRET is not configured: every webhook delivery is refused. Store it as the SecureString ' +
          'parameter <SSM_PARAMETER_PATH>/GITHUB_WEBHOOK_SECRET (see docs/webhooks.md)',
  );
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/json\s*(;|$)/i.test(value.trim());
}

function payloadOf(body: string): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    throw new BadRequestError('The request body is not valid JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new BadRequestError('The request body is not a JSON object');
  }
  return payload as Record<string, unknown>;
}

/** The repository's team from the team directory; none when GitHub is not configured or fails. */
async function teamOf(
  repository: RepositoryRef,
  config: Config,
  secrets: Secrets,
  deps: WebhookDeps,
): Promise<string | undefined> {
  // Only the organisation's own repositories are in its directory (a GitHub App may serve several).
  if (config.github.org === undefined || repository.owner.toLowerCase() !== config.github.org.toLowerCase()) {
    return undefined;
  }
  try {
    const teams = deps.teams(config, secrets);
    if (teams === undefined) return undefined;
    return (await withTimeout(teams.teamsByRepository(), TEAM_LOOKUP_TIMEOUT_MS)).get(repository.name);
  } catch (error) {
    // Written without team_name rather than refused: /data still finds the team through GitHub's
    // ownership when it reads (teamRepositories), and a lost delivery could not be had back.
    logger.warn('team directory unavailable or slow: delivery written without team', {
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/**
 * Whether Loki holds every one of these entries already (same stream, time and line): a redelivery. Loki
 * drops an identical entry only while it is in the ingester and only in log queries; after a flush, or
 * when structured metadata such as the team differs, a second push would count twice in metric queries.
 */
async function alreadyStored(
  writer: Pick<LokiWriter, 'newest'>,
  entries: readonly LokiEntry[],
): Promise<boolean> {
  for (const entry of entries) {
    const selector = INDEX_LABELS.map((name) => `${name}=${logqlString(entry.labels[name] ?? '')}`).join(
      ', ',
    );
    const at = BigInt(entry.timestampNs);
    const found = await withTimeout(
      writer.newest(`{${selector}}`, { startNs: at, endNs: at + 1n }, 100),
      LOKI_LOOKUP_TIMEOUT_MS,
    );
    if (!found.some((stored) => stored.line === entry.line)) return false;
  }
  return true;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createWebhookHandler(deps: WebhookDeps = defaultDeps) {
  return async ({ event, context, config }: RouteRequest): Promise<HttpResponse> => {
    const known = factsOf(context);
    const secret = context.secrets.githubWebhookSecret;
    if (secret === undefined) {
      logMissingSecret(config);
      throw new WebhookNotConfiguredError();
    }
    const body = rawBody(event);
    await verifySignature(secret, body, header(event, 'x-hub-signature-256'));

    if (!isJsonContentType(header(event, 'content-type'))) {
      throw new HttpError(
        415,
        'Deliveries must be application/json: set the content type of the webhook on GitHub',
      );
    }
    const name = header(event, 'x-github-event');
    const delivery = header(event, 'x-github-delivery');
    if (name === undefined || !EVENT_NAME.test(name)) {
      throw new BadRequestError('The X-GitHub-Event header is missing or not an event name');
    }
    known.event = name;
    if (delivery === undefined || !DELIVERY_ID.test(delivery)) {
      throw new BadRequestError('The X-GitHub-Delivery header is missing or not a delivery id');
    }
    known.delivery = delivery;
    const payload = payloadOf(body);
    if (typeof payload.action === 'string' && EVENT_NAME.test(payload.action)) known.action = payload.action;

    const mapped: Mapped = mapDelivery(name, payload, {
      serviceNamespace: config.serviceNamespace,
      incidentLabels: config.incidentLabels,
    });
    if (mapped.repository) known.repository = mapped.repository.fullName;
    const common = {
      event: name,
      ...(known.action === undefined ? {} : { action: known.action }),
      delivery,
      ...(mapped.repository ? { repository: mapped.repository.fullName } : {}),
    };
    if (mapped.kind === 'ping') {
      known.outcome = 'ping';
      return jsonResponse(200, {
        status: 'ok',
        ...common,
        message: 'pong: the receiver verified this delivery',
      });
    }
    if (mapped.kind === 'ignored') {
      known.outcome = 'ignored';
      return jsonResponse(202, { status: 'ignored', ...common, reason: mapped.reason });
    }

    const team = await teamOf(mapped.repository, config, context.secrets, deps);
    const entries = mapped.entries(team);
    try {
      const writer = deps.writer(config, context.secrets);
      if (await alreadyStored(writer, entries)) {
        known.outcome = 'duplicate';
        return jsonResponse(200, { status: 'duplicate', ...common, entries: entries.length });
      }
      await withTimeout(writer.push(entries), LOKI_PUSH_TIMEOUT_MS + 500);
      known.outcome = 'written';
      return jsonResponse(200, { status: 'written', ...common, entries: entries.length });
    } catch (error) {
      logger.warn('Loki did not take the delivery: keeping it in the outbox', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    try {
      await deps.outbox(config).keep({
        id: delivery,
        event: name,
        ...(known.action === undefined ? {} : { action: known.action }),
        repository: mapped.repository.fullName,
        receivedAt: new Date(deps.now()).toISOString(),
        entries,
      });
    } catch (error) {
      throw new HttpError(503, 'Neither Loki nor the outbox took the delivery', {
        cause: error,
        publicMessage: 'The delivery could not be recorded now; redeliver it from the webhook page on GitHub',
      });
    }
    known.outcome = 'queued';
    return jsonResponse(202, { status: 'queued', ...common, entries: entries.length });
  };
}

function outcomeOfError(error: unknown): Outcome {
  if (error instanceof WebhookSignatureError) return 'unauthorized';
  if (error instanceof WebhookNotConfiguredError) return 'not_configured';
  const status = error instanceof HttpError ? error.statusCode : 500;
  return status < 500 ? 'rejected' : 'failed';
}

/**
 * The innermost middleware of the receiver: one log line and one EMF metric per delivery, whatever
 * answered it (the handler, or a middleware refusing it, such as the body limit).
 */
export function deliveryOutcome(): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResponse, Error, Context> {
  const report = (context: Context, outcome: Outcome, statusCode: number) => {
    const known = factsOf(context);
    logger.info('webhook delivery', {
      event: known.event,
      action: known.action,
      delivery: known.delivery,
      repository: known.repository,
      outcome,
      statusCode,
    });
    recordWebhookDelivery(known.event ?? 'unverified', outcome);
  };
  return {
    after: async (request) => {
      report(
        request.context,
        factsOf(request.context).outcome ?? 'failed',
        request.response?.statusCode ?? 500,
      );
    },
    onError: async (request) => {
      const error = request.error;
      const status = error instanceof HttpError ? error.statusCode : 500;
      report(request.context, outcomeOfError(error), status);
    },
  };
}

export const webhookHandler = createWebhookHandler();
