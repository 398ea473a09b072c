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
