import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Config, getConfig } from '../config';
import { logger } from '../logger';
import { lokiSettingsFrom } from '../loki/client';
import type { EventStore } from '../loki/types';
import { registerSecrets } from '../redact';
import { type ContextWithSecrets, type Secrets, secretsMiddlewares, secretValues } from '../secrets';
import {
  type AsyncInvoker,
  type BackfillRequest,
  type BackgroundFill,
  InProcessBackgroundFill,
  LambdaBackgroundFill,
} from './background';
import { withBacklogGuard } from './backlog';
import type { FillReport } from './fill';
import { fillDependencies, openRollupStore, selectionKeyFor } from './fill-setup';
import { backfillChunk, parseBackfillRequest, scheduledRollup } from './jobs';
import type { RollupStore } from './store';

/** What the scheduled and the backfill functions return (and log): counts, never events. */
export interface JobSummary {
  skipped?: string;
  filled?: number;
  present?: number;
  remaining?: number;
  events?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: middy's middleware array mixes event/result types
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, Context>;

/** What the two job functions share: the logging context, then secrets (SSM on AWS), redacted from logs. */
export function jobMiddlewares(): AnyMiddleware[] {
  return [
    injectLambdaContext(logger, { resetKeys: true }),
    ...secretsMiddlewares(getConfig()),
    {
      before: async (request) => {
        registerSecrets(secretValues((request.context as ContextWithSecrets).secrets));
      },
    },
  ] as AnyMiddleware[];
}

type JobContext = Pick<Context, 'getRemainingTimeInMillis' | 'functionName'> & { secrets: Secrets };

function summary(report: FillReport): JobSummary {
  return {
    filled: report.filled,
    present: report.present,
    remaining: report.remaining,
    events: report.events,
  };
}

/** `@aws-sdk/client-lambda`, loaded on the first invocation that hands work on (most never do). */
export function lambdaInvoker(): AsyncInvoker {
  let invoke: Promise<(functionName: string, payload: string) => Promise<void>> | undefined;
  return {
    async invokeAsync(functionName, payload) {
      invoke ??= import('@aws-sdk/client-lambda').then(({ LambdaClient, InvokeCommand }) => {
        const lambda = new LambdaClient({});
        return async (name: string, body: string) => {
          await lambda.send(
            new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(body) }),
          );
        };
      });
      await (await invoke)(functionName, payload);
    },
  };
}

function storeOf(config: Config): RollupStore | undefined {
  return openRollupStore(config);
}

export async function runScheduledRollup(context: JobContext): Promise<JobSummary> {
  const config = getConfig();
  const store = storeOf(config);
  if (store === undefined) return { skipped: 'ROLLUPS_URL is off' };
  const deps = fillDependencies(config, context.secrets, store);
  return summary(
    await scheduledRollup({
      deps,
      concurrency: config.rollupsFill.concurrency,
      remainingMs: context.getRemainingTimeInMillis(),
    }),
  );
}

export async function runBackfill(event: unknown, context: JobContext): Promise<JobSummary> {
  const request = parseBackfillRequest(event);
  const config = getConfig();
  const store = storeOf(config);
  if (store === undefined) return { skipped: 'ROLLUPS_URL is off' };
  const deps = fillDependencies(config, context.secrets, store);
  // The rest of the range goes to a new invocation of this very function (IAM allows only that one).
  const background = new LambdaBackgroundFill(context.functionName, lambdaInvoker());
  return summary(
    await backfillChunk(
      {
        deps,
        background,
        concurrency: config.rollupsFill.concurrency,
        remainingMs: context.getRemainingTimeInMillis(),
      },
      request,
    ),
  );
}

let inProcess: InProcessBackgroundFill | undefined;

/**
 * Where a request hands its missing closed days: the backfill function when ROLLUPS_BACKFILL_FUNCTION names
 * one (AWS), else a task in this process (`npm start`), which fills without a time limit.
 */
export function backgroundFillFor(
  config: Config,
  secrets: Pick<Secrets, 'lokiToken'>,
): BackgroundFill | undefined {
  const store = storeOf(config);
  if (store === undefined) return undefined;
  if (config.rollupsFill.backfillFunction !== undefined)
    return new LambdaBackgroundFill(config.rollupsFill.backfillFunction, lambdaInvoker());
  inProcess ??= new InProcessBackgroundFill(async (request: BackfillRequest) => {
    const deps = fillDependencies(config, secrets, store);
    const report = await backfillChunk(
      {
        deps,
        background: { start: async () => {} },
        concurrency: config.rollupsFill.concurrency,
        remainingMs: undefined,
      },
      request,
    );
    logger.info('Background fill of closed days done', { ...request, ...summary(report) });
  });
  return inProcess;
}

const guarded = new WeakMap<EventStore, EventStore>();

/**
 * The read path's reader behind the backlog guard (lib/rollups/backlog.ts) when a store is configured;
 * the same guarded reader for the same reader, so what is built on it (the data service's cache) lasts.
 */
export function guardedEventStore(
  events: EventStore,
  config: Config,
  secrets: Pick<Secrets, 'lokiToken'>,
): EventStore {
  const rollups = storeOf(config);
  const background = backgroundFillFor(config, secrets);
  if (rollups === undefined || background === undefined) return events;
  let guardedStore = guarded.get(events);
  if (guardedStore === undefined) {
    const settings = lokiSettingsFrom(config, secrets);
    guardedStore = withBacklogGuard(events, {
      rollups,
      background,
      selectionKey: selectionKeyFor.bind(undefined, config),
      namespaceKey: selectionKeyFor(config, {}),
      closedAfterMs: settings.closedAfterMs ?? 0,
    });
    guarded.set(events, guardedStore);
  }
  return guardedStore;
}
