// HEAD on every GET route of the HTTP API, as HTTP has it (RFC 9110 9.3.2: HEAD is GET without the body).
// API Gateway HTTP APIs match a route by its exact method, so a HEAD to a GET-only route would fall to the
// $default route (the notFound function's 405). This plugin gives each compiled `GET /path` route a
// `HEAD /path` twin with the same integration and authorization; the function answers it as the GET, and
// API Gateway sends no body with the answer to a HEAD. serverless offline never reads these routes: hapi, under
// it, answers HEAD with the GET route already (`npm start` and the stack agree). Nothing to configure.

class HeadRoutes {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileEvents': () => this.addHeadRoutes() };
  }

  addHeadRoutes() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
      const key = resource.Properties.RouteKey;
      if (typeof key !== 'string' || !key.startsWith('GET ')) continue;
      const headId = id.replace(/^HttpApiRouteGet/, 'HttpApiRouteHead');
      if (headId === id || resources[headId] !== undefined) continue;
      resources[headId] = {
        ...resource,
        Properties: { ...resource.Properties, RouteKey: `HEAD ${key.slice('GET '.length)}` },
      };
    }
  }
}

module.exports = HeadRoutes;
