import type middy from '@middy/core';
import type { SSMOptions } from '@middy/ssm';
import type { Context } from 'aws-lambda';
import type { Config } from './config';

/**
 * Secrets the API may use. On AWS they live in SSM Parameter Store under SSM_PARAMETER_PATH
 * (`<path>/GITHUB_TOKEN`, `<path>/LOKI_TOKEN`, `<path>/AUTH_JWT_SECRET`, `<path>/GITHUB_WEBHOOK_SECRET`, SecureString), fetched once
 * per cold start with decryption and refreshed after SECRETS_CACHE_TTL_SECONDS; locally they come
 * from the environment (or `.env`). They are never logged and never part of a response.
 */
export interface Secrets {
  githubToken: string | undefined;
  lokiToken: string | undefined;
  authJwtSecret: string | undefined;
  /** Verifies X-Hub-Signature-256 of GitHub webhook deliveries; none configured refuses every delivery. */
  githubWebhookSecret: string | undefined;
}

export const SECRET_NAMES = [
  'GITHUB_TOKEN',
  'LOKI_TOKEN',
  'AUTH_JWT_SECRET',
  'GITHUB_WEBHOOK_SECRET',
] as const;
type SecretName = (typeof SECRET_NAMES)[number];
type SecretValues = Partial<Record<SecretName, unknown>>;

export type ContextWithSecrets = Context & { secrets: Secrets };

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const asText = String(value).trim();
  return asText === '' ? undefined : asText;
}

export function secretsFrom(values: SecretValues): Secrets {
  return {
    githubToken: text(values.GITHUB_TOKEN),
    lokiToken: text(values.LOKI_TOKEN),
    authJwtSecret: text(values.AUTH_JWT_SECRET),
    githubWebhookSecret: text(values.GITHUB_WEBHOOK_SECRET),
  };
}

/** Every configured secret value, so logs can be checked (and scrubbed) against them. */
export function secretValues(secrets: Secrets): string[] {
  return Object.values(secrets).filter(
    (value): value is string => typeof value === 'string' && value.length >= 4,
  );
}

/**
 * Middlewares that put `context.secrets` in place before the handler runs: @middy/ssm (one
 * GetParametersByPath call, cached between warm invocations) when SSM_PARAMETER_PATH is set, the
 * environment otherwise.
 */
export function secretsMiddlewares(
  config: Config,
): Array<middy.MiddlewareObj<unknown, unknown, Error, Context>> {
  const path = config.ssmParameterPath;
  if (path === undefined) {
    return [
      {
        before: async (request) => {
          Object.assign(request.context, { secrets: secretsFrom(process.env as SecretValues) });
        },
      },
    ];
  }
  return [
    lazySsm({
      fetchData: { ssmSecrets: `${path}/` },
      setToContext: true,
      cacheKey: `ssm-secrets:${path}`,
      cacheExpiry: config.secretsCacheTtlMs,
    }),
    {
      before: async (request) => {
        const context = request.context as Context & { ssmSecrets?: SecretValues };
        Object.assign(request.context, { secrets: secretsFrom(context.ssmSecrets ?? {}) });
        delete context.ssmSecrets;
      },
    },
  ];
}

type SecretsMiddleware = middy.MiddlewareObj<unknown, unknown, Error, Context>;

/**
 * @middy/ssm, loaded on the first request that needs it. Loading `@aws-sdk/client-ssm` is most of a cold
 * start (about 90 of 215 ms in `npm run bench`): functions that never read secrets (health, openapi)
 * and stages without SSM never pay for it; the others pay it once, on the first request.
 */
function lazySsm(options: SSMOptions): SecretsMiddleware {
  let middleware: Promise<SecretsMiddleware> | undefined;
  return {
    before: async (request) => {
      middleware ??= import('@middy/ssm').then(({ default: ssm }) => ssm(options) as SecretsMiddleware);
      return (await middleware).before?.(request);
    },
  };
}
