import { logger } from '../logger';
import type { FillSelection } from './fill';

/**
 * Where missing closed days get filled without anyone waiting: on AWS an asynchronous invocation of the
 * backfill function (which goes on in chunks by itself), on `npm start` a task in the same process.
 * Callers fire and forget: starting may fail (logged), the request that asked still answers.
 */
export interface BackfillRequest {
  /** First and last day, `YYYY-MM-DD`, both included. */
  from: string;
  to: string;
  /** Whose days; default the whole organisation (the service namespace without a filter). */
  selection?: FillSelection;
  /** How many chunks ran before this one (a runaway chain of self-invocations stops at a limit). */
  chunk?: number;
}

export interface BackgroundFill {
  start(request: BackfillRequest): Promise<void>;
}

/** What the Lambda adapter needs of `@aws-sdk/client-lambda`'s client: one asynchronous Invoke. */
export interface AsyncInvoker {
  invokeAsync(functionName: string, payload: string): Promise<void>;
}

export class LambdaBackgroundFill implements BackgroundFill {
  constructor(
    private readonly functionName: string,
    private readonly invoker: AsyncInvoker,
  ) {}

  async start(request: BackfillRequest): Promise<void> {
    await this.invoker.invokeAsync(this.functionName, JSON.stringify(request));
    logger.info('Backfill of closed days started', { ...request, functionName: this.functionName });
  }
}

/**
 * A task in this process, one per range at a time: a dashboard asking again every few seconds must not
 * start the same fill twice. The task's own failure is logged, never thrown at the request that started it.
 */
export class InProcessBackgroundFill implements BackgroundFill {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly run: (request: BackfillRequest) => Promise<void>) {}

  async start(request: BackfillRequest): Promise<void> {
    const key = JSON.stringify([request.from, request.to, request.selection?.filter ?? {}]);
    if (this.running.has(key)) return;
    const task = this.run(request)
      .catch((error: unknown) => {
        logger.error('Background fill of closed days failed', {
          ...request,
          error: error instanceof Error ? error : String(error),
        });
      })
      .finally(() => this.running.delete(key));
    this.running.set(key, task);
    logger.info('Background fill of closed days started in this process', { ...request });
  }

  /** Resolves once every task started so far has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }
}
