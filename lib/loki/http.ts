import ky, { HTTPError, isTimeoutError } from 'ky';
import { hostOf, LokiError, unreachable } from '../errors';
import { authorizationHeader, firstLineOf, type LokiSettings, parseLokiUrl } from './client';

/**
 * The small HTTP layer of the write path (push, and the few bounded queries writes need), with the same
 * URL handling and credentials as the reader (lib/loki/client.ts): LOKI_URL with or without the
 * query_range path, LOKI_USER + LOKI_TOKEN as Basic, LOKI_TOKEN alone as Bearer, LOKI_TENANT as
 * X-Scope-OrgID. Every failure is a LokiError naming Loki and its status, never its body's secrets.
 */

export type LokiConnectionSettings = Pick<
  LokiSettings,
  'url' | 'user' | 'token' | 'tenant' | 'timeoutMs' | 'maxRetries'
>;

export interface LokiConnection {
  baseUrl: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
}

/** Statuses worth another attempt: Loki overloaded or restarting. A 4xx (bad push, bad credentials) is final. */
const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];
const MAX_RETRY_DELAY_MS = 5_000;

export function lokiConnection(settings: LokiConnectionSettings): LokiConnection {
  const parsed = parseLokiUrl(settings.url);
  const authorization = authorizationHeader(settings.user ?? parsed.user, settings.token ?? parsed.password);
  return {
    baseUrl: parsed.baseUrl,
    headers: {
      accept: 'application/json',
      ...(authorization ? { authorization } : {}),
      ...(settings.tenant ? { 'x-scope-orgid': settings.tenant } : {}),
    },
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
  };
}

export interface LokiCall {
  /** What was asked, for messages: "push", "query". */
  action: string;
  method: 'get' | 'post';
  path: string;
  searchParams?: URLSearchParams;
  json?: unknown;
}

/**
 * One call with retries on 408/429/5xx and network errors (a push may be retried: Loki drops an entry
 * whose stream, timestamp and line it already holds). Resolves to the response text.
 */
export async function callLoki(connection: LokiConnection, call: LokiCall): Promise<string> {
  try {
    const response = await ky(`${connection.baseUrl}${call.path}`, {
      method: call.method,
      headers: connection.headers,
      timeout: connection.timeoutMs,
      retry: {
        limit: connection.maxRetries,
        methods: ['get', 'post'],
        statusCodes: RETRY_STATUSES,
        backoffLimit: MAX_RETRY_DELAY_MS,
        maxRetryAfter: MAX_RETRY_DELAY_MS,
        jitter: true,
      },
      ...(call.searchParams ? { searchParams: call.searchParams } : {}),
      ...(call.json === undefined ? {} : { json: call.json }),
    });
    return await response.text();
  } catch (error) {
    throw await lokiFailure(call.action, error, connection);
  }
}

async function lokiFailure(action: string, error: unknown, connection: LokiConnection): Promise<LokiError> {
  if (isTimeoutError(error)) {
    return new LokiError(
      `Loki did not answer the ${action} within ${connection.timeoutMs} ms at ${hostOf(connection.baseUrl)}`,
      { statusCode: 504, cause: error },
    );
  }
  if (!(error instanceof HTTPError)) {
    const { message, statusCode } = unreachable('Loki', connection.baseUrl, error, ` for the ${action}`);
    return new LokiError(message, { statusCode, cause: error });
  }
  const status = error.response.status;
  const text = await error.response.text().catch(() => '');
  if (status === 400) {
    // Loki's 400s explain what it refused in our own request (an entry too far behind, a line too
    // long, a malformed query): safe and useful to show.
    return new LokiError(`Loki refused the ${action} (HTTP 400): ${firstLineOf(text)}`, {
      upstreamStatus: 400,
      cause: new Error(text),
    });
  }
  const what =
    status === 401 || status === 403
      ? `Loki refused the credentials for the ${action} (HTTP ${status})`
      : `Loki answered the ${action} with HTTP ${status}`;
  return new LokiError(what, { upstreamStatus: status, cause: new Error(firstLineOf(text)) });
}
