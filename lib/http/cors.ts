import type middy from '@middy/core';
import httpCors from '@middy/http-cors';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import corsPolicy from '../../deploy/cors-policy.json';
import type { Config } from '../config';
import type { Secrets } from '../secrets';
import { effectiveAuthMode } from './auth';

/**
 * CORS in the function, matching what serverless.yml tells API Gateway (which, once CORS is set on
 * an HTTP API, answers preflights itself and replaces these headers): the origins in CORS_ORIGINS;
 * when CORS_ORIGINS is unset, any origin (`*`) only while authentication is off. With
 * authentication on and no CORS_ORIGINS, no origin is allowed: browsers then refuse cross-origin
 * calls, while server-side clients (the Backstage proxy, Grafana, scripts) are unaffected.
 */

// One policy for API Gateway (deploy/http-api.js) and the function.
export const CORS_ALLOWED_HEADERS = corsPolicy.allowedHeaders.join(',');
export const CORS_ALLOWED_METHODS = corsPolicy.allowedMethods.join(',');
export const CORS_EXPOSED_HEADERS = corsPolicy.exposedResponseHeaders.join(',');
export const CORS_MAX_AGE_SECONDS = corsPolicy.maxAge;

// biome-ignore lint/suspicious/noExplicitAny: the middlewares serve every route's event/result types
type AnyMiddleware = middy.MiddlewareObj<any, any, Error, Context>;
type AnyRequest = middy.Request<APIGatewayProxyEventV2, unknown, Error, Context>;

function corsWith(origins: string[]): AnyMiddleware {
  return httpCors({
    origins,
    headers: CORS_ALLOWED_HEADERS,
    methods: CORS_ALLOWED_METHODS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: CORS_MAX_AGE_SECONDS,
  }) as AnyMiddleware;
}

/** The origins a response may name, given what is known of the secrets so far. */
export function allowedOrigins(config: Config, secrets: Secrets | undefined): string[] {
  if (config.corsOrigins !== undefined && config.corsOrigins.length > 0) return config.corsOrigins;
  // Routes that do not resolve secrets (health, openapi) only know them locally, from the environment.
  const secret =
    secrets?.authJwtSecret ??
    (config.ssmParameterPath === undefined ? process.env.AUTH_JWT_SECRET : 'unknown');
  const authOff = effectiveAuthMode(config.auth, secret?.trim() === '' ? undefined : secret) === 'off';
  return authOff ? ['*'] : [];
}

export interface CorsMiddlewares {
  /** Adds CORS headers to every response, errors included (put it before the error mapping). */
  headers: AnyMiddleware;
  /** Answers OPTIONS preflights with 204 (put it after the secrets, before authentication). */
  preflight: AnyMiddleware;
}

export function corsMiddlewares(config: Config): CorsMiddlewares {
  const anyOrigin = corsWith(['*']);
  const noOrigin = corsWith([]);
  const configured = config.corsOrigins?.length ? corsWith(config.corsOrigins) : undefined;
  const chosen = (request: AnyRequest): AnyMiddleware => {
    if (configured) return configured;
    const secrets = (request.context as Context & { secrets?: Secrets }).secrets;
    return allowedOrigins(config, secrets).length > 0 ? anyOrigin : noOrigin;
  };
  return {
    headers: {
      after: async (request) => chosen(request).after?.(request),
      onError: async (request) => chosen(request).onError?.(request),
    },
    preflight: {
      before: async (request) => {
        if (request.event.requestContext?.http?.method !== 'OPTIONS') return;
        request.response = { statusCode: 204, headers: {}, body: '' };
        await chosen(request).after?.(request);
        return request.response;
      },
    },
  };
}
