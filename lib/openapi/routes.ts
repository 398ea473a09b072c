import * as z from 'zod';
import { dataRequestSchema, dataResponseSchema } from '../data/request';
import {
  deploymentEventResponseSchema,
  incidentConflictSchema,
  incidentEventResponseSchema,
} from '../events/responses';
import { deploymentEventSchema, incidentEventSchema } from '../events/schemas';
import type { RouteSpec } from '../http/route';
import { noCacheQuery } from '../http/validation';
import { metricsQuerySchema, summaryQuerySchema } from '../metrics/query';
import { servicesQuerySchema, servicesResponseSchema } from '../services/query';
import {
  healthQuerySchema,
  statusAcceptedSchema,
  statusListSchema,
  statusQuerySchema,
  statusReportSchema,
} from '../status/schema';
import { teamsQuerySchema } from '../teams/query';
import {
  WEBHOOK_MAX_BODY_BYTES,
  webhookPayloadSchema,
  webhookProblemSchema,
  webhookResponseSchema,
} from '../webhooks/schemas';
import {
  healthResponseSchema,
  metricsResponseSchema,
  metricsSummaryResponseSchema,
  openApiDocumentSchema,
  teamsResponseSchema,
} from './schemas';

/**
 * Every route of the API, described once from the same zod schemas the handlers are given their input by:
 * the OpenAPI document (lib/openapi/document.ts) is generated from this list, and each function opens its
 * route from its entry (`routeHandler(route('getMetrics'), getMetrics)`, lib/http/route.ts): the stack
 * options, and the query and body parsed with these schemas. A new route adds an entry here.
 */
export interface RouteDescription extends RouteSpec {
  summary: string;
  description?: string;
  /** Without `auth`: some requests (named in the description) need a token, so it is optional and 401 documented. */
  optionalAuth?: boolean;
  response: z.ZodType;
  /** What the success answer is, when not JSON: an HTML page, or nothing (a redirect). */
  responseMediaType?: 'text/html' | 'none';
  responseDescription: string;
  /** Response headers worth naming (name -> description). */
  responseHeaders?: Record<string, string>;
  /** Status of the success answer described by `response` (default 200). */
  successStatus?: number;
  /** Answers besides the success and the shared errors; `problem` ones are problem+json with that schema. */
  otherResponses?: Record<number, { description: string; schema: z.ZodType; problem?: boolean }>;
  /** Builds its answer from Loki's events: it may answer 422 when they or the answer cannot fit the function. */
  readsEvents?: boolean;
}

/** The X-Rollups header of the routes that read events (lib/loki/closed-days.ts). */
const rollupsHeader =
  'Where the days of the answer came from: `memory=N store=N loki=N open=N` (closed days from memory, from the store of closed days, read from Loki, and days not closed yet; `store=off` without ROLLUPS_URL), then `namespace=N` when N of the closed days from memory and the store were the days of the whole namespace narrowed to the filter of the request, `stored=N` when days were written to the store and `fallback` when the store failed and Loki answered instead. Absent on an answer kept in memory (`X-Cache: hit` with no day read)';

const table = [
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness of the API',
    description:
      'Calls no upstream: a Loki or GitHub outage does not show here. `deep=true` asks Loki and then needs a ' +
      'bearer token when authentication is on; with AUTH_MODE=gateway it is always 401 (API Gateway checks no ' +
      'token on this route, so the function has no caller to trust).',
    auth: false,
    optionalAuth: true,
    query: healthQuerySchema,
    // Monitors add cache-busters, and liveness never answers 400: only `deep` is read, when it parses.
    queryReading: 'lenient',
    response: healthResponseSchema,
    responseDescription: 'The function is running',
    upstream: false,
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI 3.1 document',
    auth: false,
    // No parameter: any is a 400 naming it.
    query: z.object({}),
    response: openApiDocumentSchema,
    responseDescription: 'The OpenAPI document of every route',
    upstream: false,
  },
  {
    method: 'post',
    path: '/data',
    operationId: 'postData',
    summary: 'Production deployment records of a period',
    description:
      'The records react-dora-charts and the Backstage DORA plugins read. Unknown body keys are ignored; `null` equals missing.',
    auth: true,
    query: noCacheQuery,
    body: dataRequestSchema,
    response: dataResponseSchema,
    responseDescription: 'The records, one per production deployment',
    responseHeaders: {
      'X-Cache': '`hit` when the answer came from the in-memory cache, else `miss`',
      'X-Rollups': rollupsHeader,
    },
    upstream: true,
    readsEvents: true,
  },
  {
    method: 'get',
    path: '/teams',
    operationId: 'getTeams',
    summary: 'Teams of the GitHub organisation',
    auth: true,
    query: teamsQuerySchema,
    response: teamsResponseSchema,
    responseDescription: 'The teams, sorted by name',
    responseHeaders: {
      'X-Cache': '`hit`, `miss` or `stale`',
      'X-Teams-Fetched-At': 'When the list was fetched from GitHub',
    },
    upstream: true,
  },
  {
    method: 'get',
    path: '/services',
    operationId: 'getServices',
    summary: 'Services of the event namespace',
    description:
      "The `service_name` label values (OpenTelemetry `service.name`; the collector sets it to the repository) of the SERVICE_NAME namespace with events within MAX_RANGE_DAYS, from Loki's label index. What the Backstage DORA plugin 1.1+ reads through `dora.serviceListEndpoint: services`; a name is then posted to /data as `service`. Cached like the team list (TEAMS_CACHE_TTL_SECONDS).",
    auth: true,
    query: servicesQuerySchema,
    queryReading: 'filters',
    response: servicesResponseSchema,
    responseDescription: 'The services, sorted',
    responseHeaders: { 'X-Cache': '`hit`, `miss` or `stale` (Loki failed; the last list is served)' },
    upstream: true,
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'One DORA metric per day, week or month',
    description:
      'A flat array for Grafana (Infinity) and scripts. The period is `start_date`/`end_date` (inclusive days) or `from`/`to` (epoch ms, as Grafana sends with `$__from`/`$__to`); empty values count as absent.',
    auth: true,
    query: metricsQuerySchema,
    // Empty filters count as absent (Grafana's `team=`); `exclude_authors=` excludes nobody.
    queryReading: 'filters',
    emptyMeaningful: ['exclude_authors'],
    response: metricsResponseSchema,
    responseDescription: 'The series of the metric',
    responseHeaders: { 'X-Cache': '`hit` or `miss`', 'X-Rollups': rollupsHeader },
    upstream: true,
    readsEvents: true,
  },
  {
    method: 'get',
    path: '/metrics/summary',
    operationId: 'getMetricsSummary',
    summary: 'The five DORA metrics of a period with levels and trend',
    auth: true,
    query: summaryQuerySchema,
    // Empty filters count as absent (Grafana's `team=`); `exclude_authors=` excludes nobody.
    queryReading: 'filters',
    emptyMeaningful: ['exclude_authors'],
    response: metricsSummaryResponseSchema,
    responseDescription: 'The summary of the period against the previous one',
    responseHeaders: { 'X-Cache': '`hit` or `miss`', 'X-Rollups': rollupsHeader },
    upstream: true,
    readsEvents: true,
  },
  {
    method: 'post',
    path: '/events/deployments',
    operationId: 'postDeploymentEvent',
    summary: 'Report a deployment (and the pull request it shipped)',
    description:
      'For CI systems and GitOps agents outside the OpenTelemetry collector pipeline: stored in Loki in the shape the collector writes, so /data and /metrics count it.',
    auth: true,
    body: deploymentEventSchema,
    successStatus: 201,
    response: deploymentEventResponseSchema,
    responseDescription: 'The deployment as /data will read it, and its merged change',
    upstream: true,
  },
  {
    method: 'post',
    path: '/events/incidents',
    operationId: 'postIncidentEvent',
    summary: 'Open, update or resolve an incident from a monitoring or paging tool',
    description:
      'One incident per repository and id: a repeated report updates it (earliest creation, latest resolution) instead of counting twice.',
    auth: true,
    body: incidentEventSchema,
    successStatus: 201,
    response: incidentEventResponseSchema,
    responseDescription: 'A new incident was recorded',
    otherResponses: {
      200: { description: 'The report changed a recorded incident', schema: incidentEventResponseSchema },
      409: {
        description: 'The report changes nothing: the recorded incident is in `incident`',
        schema: incidentConflictSchema,
        problem: true,
      },
    },
    upstream: true,
  },
  {
    method: 'post',
    path: '/api/status',
    operationId: 'postGitOpsStatus',
    summary: 'Report the sync status of a GitOps repo:server pair',
    description:
      'The contract existing GitOps agents speak; errors are `{"status":"error","message":"..."}`, not problem+json.',
    auth: true,
    body: statusReportSchema,
    response: statusAcceptedSchema,
    responseDescription: 'The status was stored',
    errorFormat: 'status-message',
    upstream: true,
  },
  {
    method: 'get',
    path: '/status.json',
    operationId: 'getGitOpsStatuses',
    summary: 'The latest GitOps sync status per repo:server',
    description:
      'A flat array for Grafana (Infinity). Pairs not reported within STATUS_TTL_HOURS are left out.',
    auth: true,
    query: statusQuerySchema,
    response: statusListSchema,
    responseDescription: 'The statuses, sorted by repo then server',
    responseHeaders: { 'X-Status-Truncated': '`true` when the scan stopped at its line limit' },
    upstream: true,
  },
  {
    method: 'post',
    path: '/webhooks/github',
    operationId: 'postGitHubWebhook',
    summary: "Receive GitHub's webhook deliveries",
    description:
      'Point an organisation webhook or a GitHub App here (content type `application/json`, the secret ' +
      'GITHUB_WEBHOOK_SECRET): `deployment_status`, merged `pull_request` and incident `issues` events are written ' +
      'to Loki in the shape the collector writes. No bearer token: X-Hub-Signature-256 (HMAC-SHA256 of the body) ' +
      'must verify. Bodies up to 1 MiB. See docs/webhooks.md.',
    auth: false,
    body: webhookPayloadSchema,
    // The signature is over the bytes that arrived: the handler verifies them before it parses anything.
    rawBody: true,
    maxBodyBytes: WEBHOOK_MAX_BODY_BYTES,
    response: webhookResponseSchema,
    responseDescription: 'A ping, or a delivery written to Loki (or found there already: a redelivery)',
    otherResponses: {
      202: {
        description: 'Accepted: queued in the outbox (Loki did not take it in time) or ignored (`reason`)',
        schema: webhookResponseSchema,
      },
      401: {
        description: 'The signature is missing, sha1 only, or does not verify (the detail says nothing more)',
        schema: webhookProblemSchema,
        problem: true,
      },
      415: { description: 'The body is not application/json', schema: webhookProblemSchema, problem: true },
    },
    upstream: true,
  },
  {
    method: 'get',
    path: '/',
    operationId: 'getDashboard',
    summary: 'The DORA dashboard page',
    description:
      'One HTML page (script and styles inline) that shows the other routes to people. Public like /health: it ' +
      'holds no data, and asks for a bearer token when the routes it calls answer 401. Its query string ' +
      '(period, start, end, team, repositories, interval) is read by the page, not by the server.',
    auth: false,
    response: z.string(),
    responseMediaType: 'text/html',
    responseDescription: 'The page (gzipped for clients that accept it; 304 for a matching If-None-Match)',
    responseHeaders: {
      ETag: 'Validator of the page',
      'Content-Security-Policy':
        'Only the inline script and styles of the page, requests to its own origin only',
    },
    upstream: false,
  },
  {
    method: 'get',
    path: '/dashboard',
    operationId: 'redirectToDashboard',
    summary: 'Redirects to the dashboard page',
    auth: false,
    response: z.string(),
    responseMediaType: 'none',
    successStatus: 302,
    responseDescription: 'Found: Location `./` (the page at /)',
    responseHeaders: { Location: '`./`' },
    upstream: false,
  },
] as const satisfies readonly RouteDescription[];

export const routes: readonly RouteDescription[] = table;

type Entry = (typeof table)[number];
export type OperationId = Entry['operationId'];

/** The table's entry of a route, with its schemas' own types (what its handler is given follows from them). */
export function route<Id extends OperationId>(operationId: Id): Extract<Entry, { operationId: Id }> {
  const found = table.find((entry) => entry.operationId === operationId);
  if (found === undefined) throw new Error(`No route ${operationId} in the route table`);
  return found as Extract<Entry, { operationId: Id }>;
}
