import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../config';
import { HttpError, UnauthorizedError } from '../errors';
import { logger } from '../logger';
import type { Secrets } from '../secrets';

/**
 * Bearer-token authentication with jose (HS256 only: `alg: none` and every other algorithm are
 * refused before any signature is looked at). Which mode applies is decided per request from the
 * configuration and the resolved secrets, see `Config['auth']['mode']`.
 */

export type EffectiveAuthMode = 'jwt' | 'gateway' | 'off';

export type AuthSettings = Config['auth'];

/** Who called, as the token says; `undefined` when authentication is off or done by API Gateway. */
export interface Caller {
  subject: string | undefined;
  claims: JWTPayload;
}

export type ContextWithCaller = Context & { caller?: Caller };

/** HS256 keys shorter than the hash output are guessable offline from any token: refuse them. */
export const MIN_SECRET_BYTES = 32;

const ALGORITHMS = ['HS256'];

// RFC 6750 §3: the challenge names the scheme; `error="invalid_token"` when a token was sent.
const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

/**
 * Lambda's own runtime sets AWS_LAMBDA_RUNTIME_API; serverless offline, `serverless invoke local` and the
 * tests do not. `auto` turns authentication off only off AWS: a stage deployed with `auto` and no secret
 * (the `local` stage deployed by mistake) refuses every request instead of serving them to anyone.
 */
const onDeployedLambda = () => process.env.AWS_LAMBDA_RUNTIME_API !== undefined;

export function effectiveAuthMode(
  settings: AuthSettings,
  secret: string | undefined,
  deployed = onDeployedLambda(),
): EffectiveAuthMode {
  if (settings.mode === 'auto') return secret === undefined && !deployed ? 'off' : 'jwt';
  return settings.mode;
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new UnauthorizedError('A bearer token is required: send Authorization: Bearer <token>');
  }
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization);
  if (!match?.[1]) {
    throw new UnauthorizedError('The Authorization header must be "Bearer <token>"', {
      headers: { 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE },
    });
  }
  return match[1];
}

/** What a client may learn about its own rejected token; never which key or claim values were expected. */
function rejectionMessage(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The bearer token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'The bearer token is not valid yet';
    return `The bearer token's "${error.claim}" claim is missing or not accepted`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The bearer token must be signed with HS256';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'The bearer token signature is not valid';
  }
  return 'The bearer token is not a valid JWT';
}

/**
 * Verifies `Authorization: Bearer <JWT>` against the shared secret: signature (HS256), `exp` and
 * `nbf` with the configured clock tolerance, and the configured audience, issuer and required claims.
 * Every failure is an UnauthorizedError (401 with a WWW-Authenticate challenge).
 */
export async function verifyBearer(
  authorization: string | undefined,
  secret: string,
  settings: AuthSettings,
): Promise<Caller> {
  const token = bearerToken(authorization);
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ALGORITHMS,
      clockTolerance: settings.clockToleranceSeconds,
      requiredClaims: settings.requiredClaims,
      ...(settings.audience === undefined ? {} : { audience: settings.audience }),
      ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
    });
    return { subject: payload.sub, claims: payload };
  } catch (error) {
    throw new UnauthorizedError(rejectionMessage(error), {
      cause: error,
      headers: { 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE },
    });
  }
}

const GATEWAY_UNCHECKED =
  'A bearer token checked by the API Gateway authorizer is required, and this route has no authorizer';

const MISCONFIGURED = 'Authentication is required but not correctly configured on the server';

function requireUsableSecret(secret: string | undefined): string {
  if (secret === undefined) {
    throw new HttpError(500, 'AUTH_MODE is jwt but AUTH_JWT_SECRET is not set', {
      publicMessage: MISCONFIGURED,
    });
  }
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new HttpError(500, `AUTH_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes long`, {
      publicMessage: MISCONFIGURED,
    });
  }
  return secret;
}

/** The claims API Gateway's JWT authorizer put in the event: only routes with that authorizer have them. */
function gatewayClaims(event: APIGatewayProxyEventV2): Record<string, unknown> | undefined {
  const requestContext = event.requestContext as {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
  return requestContext?.authorizer?.jwt?.claims;
}

export interface AuthMiddlewareOptions {
  /**
   * In gateway mode, refuse requests that API Gateway's authorizer did not check. A route without the
   * authorizer (GET /health, public at the gateway) sets this before doing work only a caller may ask for:
   * there the function has no identity to trust, whatever Authorization header was sent.
   */
  requireGatewayClaims?: boolean;
}

/**
 * The middleware of authenticated routes; it needs `context.secrets` (the stack puts the secrets
 * middleware before it). Preflight requests pass: browsers never send credentials with them.
 */
export function authMiddleware(
  settings: AuthSettings,
  options: AuthMiddlewareOptions = {},
): middy.MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, Context> {
  return {
    before: async (request) => {
      if (request.event.requestContext?.http?.method === 'OPTIONS') return;
      const context = request.context as ContextWithCaller & { secrets?: Secrets };
      const secret = context.secrets?.authJwtSecret;
      const mode = effectiveAuthMode(settings, secret);
      if (mode === 'gateway' && options.requireGatewayClaims && gatewayClaims(request.event) === undefined) {
        throw new UnauthorizedError(GATEWAY_UNCHECKED);
      }
      if (mode !== 'jwt') return;
      const caller = await verifyBearer(
        request.event.headers?.authorization,
        requireUsableSecret(secret),
        settings,
      );
      context.caller = caller;
      logger.appendKeys({ caller: caller.subject });
    },
  };
}
