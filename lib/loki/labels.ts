import pLimit from 'p-limit';
import * as z from 'zod';
import { LokiError } from '../errors';
import { NS_PER_MS } from '../time';
import { splitRange } from './client';
import { callLoki, type LokiConnection } from './http';
import { SERVICE_LABEL, streamSelector } from './logql';

/**
 * The services of the namespace, from Loki's label-values API: it reads the index only, never a line.
 * Measured on a real Loki 3.7.6 (the real-Loki suite, test/real-loki/services.test.ts): `/loki/api/v1/label/service_name/values` with
 * `query={service_namespace="github"}` answers only that namespace's values; a query with any pipeline stage
 * is a 400 ("only label matchers are supported"), so a team cannot be chosen there (team_name is structured
 * metadata); a range longer than max_query_length is a 400 like query_range's, so the look-back is asked in
 * max_query_length pieces; an empty answer is `{"status":"success"}` without `data`; each answer took under
 * 10 ms there.
 */

export interface ServiceLister {
  /** The sorted `service_name` values of the namespace's streams with events in the look-back. */
  listServices(signal?: AbortSignal): Promise<string[]>;
}

export interface ServiceListerOptions {
  serviceNamespace: string;
  /** How far back streams count (the longest window a dashboard may ask for). */
  lookbackMs: number;
  maxQueryLengthMs: number;
  concurrency: number;
  now?: () => number;
}

const labelValuesAnswer = z.object({ status: z.string(), data: z.array(z.string()).optional() });

const toNs = (ms: number) => String(BigInt(Math.floor(ms)) * NS_PER_MS);

export function createLokiServiceLister(
  connection: LokiConnection,
  options: ServiceListerOptions,
): ServiceLister {
  const now = options.now ?? Date.now;
  const selector = streamSelector({}, options);
  return {
    async listServices() {
      const end = now();
      const ranges = splitRange({ start: end - options.lookbackMs, end }, options.maxQueryLengthMs);
      const limit = pLimit(options.concurrency);
      const pages = await Promise.all(
        ranges.map((range) =>
          limit(async () => {
            const text = await callLoki(connection, {
              action: 'service list',
              method: 'get',
              path: `/loki/api/v1/label/${SERVICE_LABEL}/values`,
              searchParams: new URLSearchParams({
                query: selector,
                start: toNs(range.start),
                end: toNs(range.end),
              }),
            });
            return parseValues(text);
          }),
        ),
      );
      return [...new Set(pages.flat())].sort((left, right) => left.localeCompare(right, 'en'));
    },
  };
}

function parseValues(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LokiError('Loki answered the service list with something that is not JSON', { cause: error });
  }
  const answer = labelValuesAnswer.safeParse(parsed);
  if (!answer.success) {
    throw new LokiError('Loki answered the service list in an unexpected shape', { cause: answer.error });
  }
  return answer.data.data ?? [];
}
