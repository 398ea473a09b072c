/**
 * Typed errors. Everything thrown while serving a request ends in lib/http/errors.ts, the one place
 * that turns an error into a response. Messages of 4xx errors are shown to clients; for 5xx only
 * `publicMessage` (written to be safe: no secret, no internal detail) is, else a generic text.
 */

export interface HttpErrorOptions {
  cause?: unknown;
  /** Safe text for a client when statusCode >= 500. */
  publicMessage?: string;
  headers?: Record<string, string>;
  /** Per-field problems of a rejected request. */
  fields?: Array<{ field: string; message: string }>;
}

export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  readonly publicMessage: string | undefined;
  readonly headers: Record<string, string>;
  readonly fields: Array<{ field: string; message: string }> | undefined;

  constructor(statusCode: number, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = statusCode;
    this.publicMessage = options.publicMessage;
    this.headers = options.headers ?? {};
    this.fields = options.fields;
  }

  /** Whether the message itself may be shown to a client. */
  get expose(): boolean {
    return this.statusCode < 500;
  }
}

export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(message: string, options: HttpErrorOptions = {}) {
    super(400, message, options);
  }
}

export class UnauthorizedError extends HttpError {
  override name = 'UnauthorizedError';
  constructor(message = 'A valid bearer token is required', options: HttpErrorOptions = {}) {
    super(401, message, { ...options, headers: { 'WWW-Authenticate': 'Bearer', ...options.headers } });
  }
}

export class NotFoundError extends HttpError {
  override name = 'NotFoundError';
  constructor(message = 'Not found', options: HttpErrorOptions = {}) {
    super(404, message, options);
  }
}

/** The path is a route, the method is not one of it: `Allow` names the methods that are. */
export class MethodNotAllowedError extends HttpError {
  override name = 'MethodNotAllowedError';
  readonly allowed: string[];
  constructor(message: string, allowed: string[], options: HttpErrorOptions = {}) {
    super(405, message, { ...options, headers: { Allow: allowed.join(', '), ...options.headers } });
    this.allowed = allowed;
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = 'PayloadTooLargeError';
  constructor(message: string, options: HttpErrorOptions = {}) {
    super(413, message, options);
  }
}

export class ServiceUnavailableError extends HttpError {
  override name = 'ServiceUnavailableError';
  constructor(message: string, options: HttpErrorOptions & { retryAfterSeconds?: number } = {}) {
    const retryAfter =
      options.retryAfterSeconds === undefined
        ? {}
        : { 'Retry-After': String(Math.ceil(options.retryAfterSeconds)) };
    super(503, message, {
      publicMessage: message,
      ...options,
      headers: { ...retryAfter, ...options.headers },
    });
  }
}

export class GatewayTimeoutError extends HttpError {
  override name = 'GatewayTimeoutError';
  constructor(message: string, options: HttpErrorOptions = {}) {
    super(504, message, { publicMessage: message, ...options });
  }
}

/**
 * An upstream failed. 502 by default, 504 for a timeout; the public message names the upstream
 * and, when there is one, its HTTP status, never its body (which may echo credentials).
 */
export class UpstreamError extends HttpError {
  override name = 'UpstreamError';
  readonly upstream: string;
  readonly upstreamStatus: number | undefined;

  constructor(
    upstream: string,
    message: string,
    options: HttpErrorOptions & { upstreamStatus?: number; statusCode?: number } = {},
  ) {
    super(options.statusCode ?? 502, message, { publicMessage: message, ...options });
    this.upstream = upstream;
    this.upstreamStatus = options.upstreamStatus;
  }
}

export class LokiError extends UpstreamError {
  override name = 'LokiError';
  constructor(
    message: string,
    options: HttpErrorOptions & { upstreamStatus?: number; statusCode?: number } = {},
  ) {
    super('Loki', message, options);
  }
}

export class GitHubError extends UpstreamError {
  override name = 'GitHubError';
  constructor(
    message: string,
    options: HttpErrorOptions & { upstreamStatus?: number; statusCode?: number } = {},
  ) {
    super('GitHub', message, options);
  }
}

/** What the common connection failures mean, for messages a person reads. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'no answer in time',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate names another host',
};

/**
 * Failures fetch reports in words only, without a code. `bad port`: the Fetch standard forbids the port
 * (9, 6000, 6665-6669, 10080 and others kept for other protocols), so no connection is even tried.
 */
const PLAIN_REASONS: Record<string, string> = {
  'bad port': 'fetch refuses this port, one the Fetch standard blocks (such as 9 or 6000); use another port',
};

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;
/** A cause's own words are shown only when they are this plain: no URL, address with user info, or query. */
const PLAIN_TEXT = /^[A-Za-z0-9 .,:_-]{1,80}$/;

export interface NetworkFailure {
  /** The system or undici code (ECONNREFUSED, ENOTFOUND, ...), when the error carries one. */
  code: string | undefined;
  /** `connection refused (ECONNREFUSED)`: what a message may say about the failure. */
  reason: string | undefined;
  /** A timeout of the connection or of the answer: a 504, not a 502. */
  timedOut: boolean;
}

/**
 * What a failed fetch says about the connection, from the error or its causes (fetch wraps the socket's
 * error in `cause`; a host with several addresses gives an AggregateError of one per address). Only codes
 * and plain words are kept: a cause's message may hold the URL it was given.
 */
export function networkFailure(error: unknown): NetworkFailure {
  const seen = new Set<unknown>();
  let code: string | undefined;
  let plain: string | undefined;
  const visit = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== 'object' || seen.has(value) || depth > 5) return;
    seen.add(value);
    const candidate = (value as { code?: unknown }).code;
    if (code === undefined && typeof candidate === 'string' && ERROR_CODE.test(candidate)) code = candidate;
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string' && PLAIN_TEXT.test(message) && message !== 'fetch failed')
      plain = message;
    visit((value as { cause?: unknown }).cause, depth + 1);
    const errors = (value as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  const meaning =
    code === undefined ? plain && (PLAIN_REASONS[plain] ?? plain) : (NETWORK_REASONS[code] ?? plain);
  const reason = code === undefined ? meaning : meaning === undefined ? code : `${meaning} (${code})`;
  return { code, reason, timedOut: code !== undefined && TIMEOUT_CODES.has(code) };
}

/**
 * `host:port` of an upstream's URL, for public messages: never its user info, path or query, where
 * credentials and tenants end up.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || 'its configured address';
  } catch {
    return 'its configured address';
  }
}

/**
 * The message and status for an upstream that could not be reached: 502 naming the host and the network
 * error, 504 when the connection or the answer timed out. `context` follows the host (" for the push",
 * " after 3 attempts").
 */
export function unreachable(
  upstream: string,
  url: string,
  error: unknown,
  context = '',
): { message: string; statusCode: number } {
  const failure = networkFailure(error);
  const reason = failure.reason === undefined ? '' : `: ${failure.reason}`;
  const where = `at ${hostOf(url)}${context}`;
  return failure.timedOut
    ? { message: `${upstream} did not answer in time ${where}${reason}`, statusCode: 504 }
    : { message: `${upstream} could not be reached ${where}${reason}`, statusCode: 502 };
}
