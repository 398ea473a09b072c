// `serverless offline` (14.8) answers CORS its own way, not API Gateway's: without `provider.httpApi.cors` it
// names the request's origin on every answer and adds `access-control-allow-credentials: true` (the API uses
// no credentials), and answers preflights 200; with it, it names any origin on a request that is not a
// preflight, even one the configuration does not allow. No option of its turns that off (corsDisallowCredentials
// is for REST `http` events only). This plugin puts API Gateway's rules back on every answer of
// `npm start`, around serverless offline's own handler (hapi's onPreResponse, in registration order):
// - `provider.httpApi.cors` set (deploy/http-api.js): the function's CORS headers are replaced by those of the
//   configuration, for an allowed origin only (`*` when every origin is), preflights answered 204 (API
//   Gateway answers them itself; here the functions' preflight answer is rewritten);
// - not set: the function's answer as it gave it, CORS headers and status included.
// It does nothing outside `serverless offline`.

const path = require('node:path');

const KEY = 'dora-api-offline-cors';
const PATCHED = Symbol.for('dora-api.offline-cors');
const WRAPPED = Symbol.for('dora-api.offline-cors.server');

const isCorsHeader = (name) => name.toLowerCase().startsWith('access-control-');

function responseOf(request) {
  return request.response.isBoom ? request.response.output : request.response;
}

function dropCorsHeaders(headers) {
  for (const name of Object.keys(headers)) if (isCorsHeader(name)) delete headers[name];
}

/** API Gateway's answer to a request with an Origin, given the HTTP API's CORS configuration (or none). */
function apiGatewayCors(cors) {
  const origins = cors ? (cors === true ? ['*'] : (cors.allowedOrigins ?? [])) : [];
  return (request, h) => {
    const before = request.plugins[KEY];
    if (before === undefined) return h.continue;
    const response = responseOf(request);
    if (!request.headers.origin) {
      // serverless offline adds nothing then; API Gateway, once configured, drops the function's CORS headers.
      if (cors) dropCorsHeaders(response.headers);
      return h.continue;
    }
    dropCorsHeaders(response.headers);
    response.statusCode = before.statusCode;
    if (!cors) {
      for (const [name, value] of Object.entries(before.headers))
        if (isCorsHeader(name)) response.headers[name] = value;
      return h.continue;
    }
    const preflight = request.method === 'options';
    if (preflight) response.statusCode = 204;
    const any = origins.includes('*');
    if (!any && !origins.includes(request.headers.origin)) return h.continue;
    response.headers['access-control-allow-origin'] = any ? '*' : request.headers.origin;
    if (cors.allowCredentials) response.headers['access-control-allow-credentials'] = 'true';
    if (preflight) {
      if (cors.allowedMethods)
        response.headers['access-control-allow-methods'] = cors.allowedMethods.join(',');
      if (cors.allowedHeaders)
        response.headers['access-control-allow-headers'] = cors.allowedHeaders.join(',');
      if (cors.maxAge !== undefined) response.headers['access-control-max-age'] = String(cors.maxAge);
    } else if (cors.exposedResponseHeaders) {
      response.headers['access-control-expose-headers'] = cors.exposedResponseHeaders.join(',');
    }
    return h.continue;
  };
}

/** What the function answered, before serverless offline's handler changes it. */
function remember(request, h) {
  const response = responseOf(request);
  request.plugins[KEY] = { statusCode: response.statusCode, headers: { ...response.headers } };
  return h.continue;
}

class OfflineCors {
  constructor(serverless) {
    this.serverless = serverless;
    // `serverless offline` runs offline:start, `serverless offline start` offline:start:init.
    this.hooks = {
      'before:offline:start': () => this.install(),
      'before:offline:start:init': () => this.install(),
    };
  }

  install() {
    const servicePath = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const hapi = require(
      require.resolve('@hapi/hapi', { paths: [servicePath ?? path.resolve(__dirname, '..')] }),
    );
    // hapi exports a factory; its servers' class is the prototype of one of them (never started).
    const Server = Object.getPrototypeOf(hapi.server({ autoListen: false })).constructor;
    if (Server.prototype[PATCHED]) return;
    Server.prototype[PATCHED] = true;
    const { httpApi } = this.serverless.service.provider;
    const correct = apiGatewayCors(httpApi?.cors);
    // Left to serverless offline, the configuration also becomes hapi's own route CORS, whose headers hapi
    // adds after every handler: without it, OPTIONS reaches the functions (the $default route's answers
    // preflights) and the handler below is the last word.
    if (httpApi) httpApi.cors = false;
    const ext = Server.prototype.ext;
    // serverless offline registers one onPreResponse handler on its HTTP server, its CORS: ours go around it.
    Server.prototype.ext = function aroundOfflineCors(event, method, options) {
      if (event !== 'onPreResponse' || typeof method !== 'function' || Object.hasOwn(this, WRAPPED)) {
        return ext.call(this, event, method, options);
      }
      this[WRAPPED] = true;
      ext.call(this, 'onPreResponse', remember);
      const result = ext.call(this, event, method, options);
      ext.call(this, 'onPreResponse', correct);
      return result;
    };
  }
}

module.exports = OfflineCors;
