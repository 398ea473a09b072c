import { z } from 'zod';
import { logger } from '../logger';
import { DAY_MS, isoDay } from '../time';
import type { BackfillRequest, BackgroundFill } from './background';
import {
  type FillDependencies,
  type FillReport,
  type FillSelection,
  fill,
  lastClosedDay,
  ORGANISATION,
  parseDay,
} from './fill';

/**
 * The two deployed jobs over `fill`: the scheduled roll-up of the days that closed since its last run,
 * and the backfill that goes on in chunks, each within one invocation of at most 15 minutes.
 */

/** Where the scheduled job keeps the last day it completed (beside the day objects, not one of them). */
export const SCHEDULE_STATE_KEY = 'fill/scheduled.json';

/**
 * No new day starts this long before the invocation ends. A day of the 300-repository organisation takes
 * Loki 2-3 s; a slow Loki answers within LOKI_TIMEOUT_MS, retried LOKI_MAX_RETRIES times: a minute covers
 * both, and what is in flight then ends before Lambda stops the invocation.
 */
export const STOP_STARTING_BEFORE_END_MS = 60_000;
/** Requests to Loki end this long before the invocation does, so the job reports instead of being cut off. */
const LOKI_DEADLINE_BEFORE_END_MS = 10_000;
/** A chain of backfill chunks ends here whatever is left (a year at one day per chunk is 365). */
export const MAX_BACKFILL_CHUNKS = 1_000;

const stateSchema = z.object({ through: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) });

export interface JobContext {
  deps: FillDependencies;
  concurrency: number;
  /** Milliseconds the invocation has left; undefined: no limit (a task of a long-running process). */
  remainingMs: number | undefined;
  now?: number;
}

async function readState(
  store: FillDependencies['rollups']['objects'],
): Promise<{ through: number } | undefined> {
  const bytes = await store.get(SCHEDULE_STATE_KEY);
  if (bytes === undefined) return undefined;
  try {
    const parsed = stateSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (parsed.success) return { through: parseDay(parsed.data.through) };
  } catch {
    // Not JSON: treated like no state, so the job rolls up the last closed day and writes a good one.
  }
  logger.warn('Ignoring an invalid state of the scheduled roll-up', { key: SCHEDULE_STATE_KEY });
  return undefined;
}

function limits(context: JobContext): { stopStartingAt?: number; deadline?: number } {
  if (context.remainingMs === undefined) return {};
  const end = (context.now ?? Date.now()) + context.remainingMs;
  return { stopStartingAt: end - STOP_STARTING_BEFORE_END_MS, deadline: end - LOKI_DEADLINE_BEFORE_END_MS };
}

/**
 * Rolls up every day that closed since the last completed run (the state says which); on a first run, the
 * day that closed last (older history is a backfill's). What does not fit this invocation is left to the
 * next run: the state only moves past days that are stored.
 */
export async function scheduledRollup(context: JobContext): Promise<FillReport> {
  const { stopStartingAt, deadline } = limits(context);
  const last = lastClosedDay(context.deps.closedBefore);
  const store = context.deps.rollups.objects;
  const state = await readState(store);
  const from = state === undefined ? last : state.through + DAY_MS;
  const report = await fill(context.deps, {
    from,
    to: last,
    selections: [ORGANISATION],
    concurrency: context.concurrency,
    stopStartingAt,
    deadline,
    compactStoredMonths: true,
  });
  const through = report.resumeFrom === undefined ? last : report.resumeFrom - DAY_MS;
  if (state === undefined || through > state.through) {
    await store.put(SCHEDULE_STATE_KEY, Buffer.from(JSON.stringify({ through: isoDay(through) })));
  }
  logger.info('Scheduled roll-up of closed days', {
    from: isoDay(from),
    to: isoDay(last),
    filled: report.filled,
    present: report.present,
    compactedMonths: report.compactedMonths,
    remaining: report.remaining,
    through: isoDay(through),
  });
  return report;
}

const requestSchema = z.object({
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  chunk: z.number().int().min(0).optional(),
  selection: z
    .object({
      name: z.string().max(200),
      filter: z.object({
        repositories: z.array(z.string()).optional(),
        team: z.string().optional(),
        teamAliases: z.array(z.string()).optional(),
        teamRepositories: z.array(z.string()).optional(),
        otherTeamsRepositories: z.array(z.string()).optional(),
        services: z.array(z.string()).optional(),
      }),
    })
    .optional(),
});

export class BackfillRequestError extends Error {
  override readonly name = 'BackfillRequestError';
}

export function parseBackfillRequest(event: unknown): BackfillRequest {
  const parsed = requestSchema.safeParse(event);
  if (!parsed.success) {
    throw new BackfillRequestError(
      `A backfill needs {"from":"YYYY-MM-DD","to":"YYYY-MM-DD"}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  const request = parsed.data as BackfillRequest;
  parseDay(request.from);
  parseDay(request.to);
  return request;
}

/**
 * One chunk of a backfill: as many days as fit this invocation, then the rest handed on to a new
 * invocation. Days already stored are skipped, so a retried or repeated chunk costs one listing.
 */
export async function backfillChunk(
  context: JobContext & { background: BackgroundFill },
  request: BackfillRequest,
): Promise<FillReport> {
  const { stopStartingAt, deadline } = limits(context);
  const chunk = request.chunk ?? 0;
  const selection: FillSelection = request.selection ?? ORGANISATION;
  const report = await fill(context.deps, {
    from: parseDay(request.from),
    to: parseDay(request.to),
    selections: [selection],
    concurrency: context.concurrency,
    stopStartingAt,
    deadline,
  });
  logger.info('Backfill chunk of closed days', {
    from: request.from,
    to: request.to,
    chunk,
    selection: selection.name,
    filled: report.filled,
    present: report.present,
    compactedMonths: report.compactedMonths,
    remaining: report.remaining,
  });
  if (report.resumeFrom !== undefined) {
    if (chunk + 1 >= MAX_BACKFILL_CHUNKS) {
      logger.error('Backfill stopped after too many chunks', { chunk, left: report.remaining });
      return report;
    }
    await context.background.start({
      ...request,
      from: isoDay(report.resumeFrom),
      chunk: chunk + 1,
    });
  }
  return report;
}
