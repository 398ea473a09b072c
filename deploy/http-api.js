// Deploy-time pieces of serverless.yml that depend on params (osls calls these functions while it
// resolves `${file(./deploy/http-api.js):name}`). They mirror the function's own rules
// (lib/http/cors.ts, lib/http/auth.ts) so API Gateway and the function never disagree.

// One policy for API Gateway and the function (lib/http/cors.ts reads the same file).
const CORS = require('./cors-policy.json');

async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}`);
  return value == null ? '' : String(value).trim();
}

function commaList(text) {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/**
 * Whether authentication is off, as the function decides it (lib/http/auth.ts): `off`, or `auto` (the local
 * stage's default: `npm start`, `serverless offline`) without AUTH_JWT_SECRET in the environment the
 * functions get. On AWS `auto` reads the secret from SSM at run time, so it counts as on here.
 */
async function authOff(resolveVariable) {
  const auth = await param(resolveVariable, 'auth');
  if (auth === 'off') return true;
  if (auth !== 'auto' || (await resolveVariable('sls:stage')) !== 'local') return false;
  return (process.env.AUTH_JWT_SECRET ?? '').trim() === '';
}

/**
 * API Gateway answers preflights itself (and replaces the function's CORS headers) once CORS is
 * set: the corsOrigins param; `*` only when authentication is off; else no CORS at all, so
 * browsers refuse cross-origin calls while server-side clients are unaffected.
 */
async function cors({ resolveVariable }) {
  const origins = commaList(await param(resolveVariable, 'corsOrigins'));
  if (origins.length > 0) return { ...CORS, allowedOrigins: origins };
  if (await authOff(resolveVariable)) return { ...CORS, allowedOrigins: ['*'] };
  return false;
}

/** With `--param auth=gateway`, an API Gateway JWT authorizer (an OIDC issuer's JWKS) checks tokens. */
async function authorizers({ resolveVariable }) {
  if ((await param(resolveVariable, 'auth')) !== 'gateway') return {};
  const issuerUrl = await param(resolveVariable, 'jwtIssuer');
  const audience = commaList(await param(resolveVariable, 'jwtAudience'));
  if (issuerUrl === '' || audience.length === 0) {
    throw new Error(
      '--param auth=gateway needs --param jwtIssuer=<OIDC issuer URL> and --param jwtAudience=<audience>',
    );
  }
  return {
    gatewayJwt: { type: 'jwt', identitySource: '$request.header.Authorization', issuerUrl, audience },
  };
}

/** The authorizer of every protected route: the gateway's in gateway mode, none otherwise. */
async function routeAuthorizer({ resolveVariable }) {
  return (await param(resolveVariable, 'auth')) === 'gateway' ? { name: 'gatewayJwt' } : null;
}

module.exports = { cors, authorizers, routeAuthorizer };
