import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { getConfig } from '../config';
import { logger } from '../logger';
import { observability } from '../observability/middleware';
import { registerSecrets } from '../redact';
import { type ContextWithSecrets, secretsMiddlewares, secretValues } from '../secrets';
import { authMiddleware } from './auth';
import { bodyLimit } from './body-limit';
import { corsMiddlewares } from './cors';
import { type ErrorFormat, errorHandler } from './errors';
import { responseSizeLimit } from './response-size';
import { jsonBodyParser, refuseBody } from './validation';

export interface StackOptions {
  /** Parse a JSON request body (POST routes). */
  jsonBody?: boolean;
  /** Resolve secrets (SSM on AWS, environment locally) into `context.secrets`. */
  secrets?: boolean;
  /**
   * Require a bearer token when authentication is on (default true; only /health and
   * /openapi.json pass false). Implies `secrets`, where AUTH_JWT_SECRET comes from.
   */
  auth?: boolean;
  /** How errors are written (default RFC 9457 problem+json); see ErrorFormat. */
  errorFormat?: ErrorFormat;
  /**
   * Leave the body alone (no size limit, no parsing, no refusal): for the answer to unmatched routes, whose
   * 404/405 must not turn into a 400 or 413 about a body no route reads.
   */
  ignoreBody?: boolean;
  /** Leave the body exactly as it arrived, unparsed (a webhook's signature is over its bytes). */
  rawBody?: boolean;
  /** This route's body size limit (default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: middy's middleware array mixes event/result types
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, Context>;

/** Secret values join the log redaction list as soon as they are resolved. */
const redactResolvedSecrets: AnyMiddleware = {
  before: async (request) => {
    registerSecrets(secretValues((request.context as ContextWithSecrets).secrets));
  },
};

/**
 * The middlewares every function shares, in the order middy runs their `before` steps:
 * logging context, header normalisation, CORS headers, the error mapping, secrets (then added to
 * the log redaction list), preflight answers, authentication, the body size limit, then body
 * parsing (or, for routes without a body, refusing one). Authentication comes before the body is looked at, so an anonymous caller learns
 * nothing from it; the size check comes before parsing, so a huge body costs no parse.
 * `after`/`onError` run in reverse, so the error mapping answers first and CORS headers are
 * added to error responses too.
 */
export function httpStack(options: StackOptions = {}): AnyMiddleware[] {
  const config = getConfig();
  const auth = options.auth ?? true;
  const cors = corsMiddlewares(config);
  return [
    // First, so its timing covers every other middleware and it sees the final (or mapped error) response.
    observability(),
    injectLambdaContext(logger, { resetKeys: true }),
    httpHeaderNormalizer(),
    cors.headers,
    errorHandler(options.errorFormat),
    // Inside the error mapping, so an answer too large for Lambda becomes a 422 problem, not a gateway 500.
    responseSizeLimit(),
    ...(options.secrets || auth ? [...secretsMiddlewares(config), redactResolvedSecrets] : []),
    cors.preflight,
    ...(auth ? [authMiddleware(config.auth)] : []),
    ...(options.ignoreBody
      ? []
      : [
          bodyLimit(options.maxBodyBytes ?? config.maxBodyBytes),
          ...(options.jsonBody ? [jsonBodyParser()] : options.rawBody ? [] : [refuseBody()]),
        ]),
  ] as AnyMiddleware[];
}
