import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { HttpError } from '../errors';
import { logger } from '../logger';
import { type HttpResponse, jsonResponse } from './response';

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const GENERIC_MESSAGE =
  'The server could not answer this request; the error has been logged with the request id.';

/** Errors thrown by middy's own middlewares carry `statusCode` and `expose` like http-errors. */
interface MiddyHttpError extends Error {
  statusCode: number;
  expose?: boolean;
  cause?: { package?: string };
}

function isMiddyHttpError(error: unknown): error is MiddyHttpError {
  return error instanceof Error && typeof (error as Partial<MiddyHttpError>).statusCode === 'number';
}

/** The problem document every route but POST /api/status writes, as the OpenAPI document describes it. */
export const problemSchema = z
  .object({
    type: z.literal('about:blank'),
    title: z.string().meta({ description: 'The HTTP status text' }),
    status: z.number().int().min(400).max(599),
    detail: z.string().meta({ description: 'What went wrong; for 5xx a safe text without internal detail' }),
    requestId: z.string().optional().meta({ description: 'The Lambda request id, also on every log line' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'One entry per rejected parameter (400 only)' }),
  })
  .meta({ description: 'RFC 9457 problem details' });

export interface ProblemDetails {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  requestId: string | undefined;
  errors?: Array<{ field: string; message: string }>;
}

/**
 * How a route writes its errors: `problem` (default) is RFC 9457 problem+json; `status-message` is
 * `{"status":"error","message":"..."}`, the contract existing GitOps agents read from POST /api/status.
 * Status code, headers and message are decided the same way for both.
 */
export type ErrorFormat = 'problem' | 'status-message';

/**
 * The one place where an error becomes a response: an RFC 9457 problem document (or the route's
 * `format`). Client errors (4xx) show their message; server and upstream errors show only a message
 * written to be public (naming the failing upstream and its status), else a generic text.
 */
export function errorToResponse(
  error: unknown,
  requestId: string | undefined,
  format: ErrorFormat = 'problem',
): HttpResponse {
  let status = 500;
  let detail = GENERIC_MESSAGE;
  let headers: Record<string, string> = {};
  let fields: ProblemDetails['errors'];

  if (error instanceof HttpError) {
    status = error.statusCode;
    detail = error.expose ? error.message : (error.publicMessage ?? GENERIC_MESSAGE);
    headers = error.headers;
    fields = error.fields;
  } else if (isMiddyHttpError(error) && error.statusCode < 500) {
    const malformedJson = error.cause?.package === '@middy/http-json-body-parser';
    status = malformedJson ? 400 : error.statusCode;
    detail = malformedJson ? 'The request body is not valid JSON' : error.message;
  }

  if (format === 'status-message') return jsonResponse(status, { status: 'error', message: detail }, headers);

  const problem: ProblemDetails = {
    type: 'about:blank',
    title: STATUS_TITLES[status] ?? 'Error',
    status,
    detail,
    requestId,
    ...(fields ? { errors: fields } : {}),
  };
  return jsonResponse(status, problem, headers, 'application/problem+json');
}

/** Logs every failure once, with its cause, then answers with errorToResponse. */
export function errorHandler(
  format: ErrorFormat = 'problem',
): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResponse, Error, Context> {
  return {
    onError: async (request) => {
      const response = errorToResponse(request.error, request.context?.awsRequestId, format);
      const log = response.statusCode >= 500 ? logger.error.bind(logger) : logger.info.bind(logger);
      log('request failed', {
        statusCode: response.statusCode,
        error: request.error instanceof Error ? request.error : String(request.error),
      });
      request.response = { ...response, headers: { ...request.response?.headers, ...response.headers } };
    },
  };
}
