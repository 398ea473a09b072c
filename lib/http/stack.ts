import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { Context } from 'aws-lambda';
import { getConfig } from '../config';
import { logger } from '../logger';
import { secretsMiddlewares } from '../secrets';
import { errorHandler } from './errors';

export interface StackOptions {
  /** Parse a JSON request body (POST routes). */
  jsonBody?: boolean;
  /** Resolve secrets (SSM on AWS, environment locally) into `context.secrets`. */
  secrets?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: middy's middleware array mixes event/result types
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, Context>;

// Scripts often POST JSON without a JSON content type (curl -d): parse the body whatever the header
// says (an option @middy/http-json-body-parser 6 supports but does not declare in its types).
const JSON_BODY_OPTIONS = { disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0];

/**
 * The middlewares every function shares, in the order middy runs their `before` steps:
 * logging context, header normalisation, CORS, the error mapping, secrets, then body parsing.
 * `after`/`onError` run in reverse, so the error mapping answers first and CORS headers are
 * added to error responses too.
 */
export function httpStack(options: StackOptions = {}): AnyMiddleware[] {
  const config = getConfig();
  const origins = config.corsOrigins ?? ['*'];
  return [
    injectLambdaContext(logger, { resetKeys: true }),
    httpHeaderNormalizer(),
    httpCors({ origins, headers: 'content-type,authorization', credentials: false, maxAge: 600 }),
    errorHandler(),
    ...(options.secrets ? secretsMiddlewares(config) : []),
    ...(options.jsonBody ? [httpJsonBodyParser(JSON_BODY_OPTIONS)] : []),
  ] as AnyMiddleware[];
}
