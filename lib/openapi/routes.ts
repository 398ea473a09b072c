import type { z } from 'zod';
import { dataRequestSchema, dataResponseSchema } from '../data/request';
import { noCacheQuery } from '../http/validation';
import { metricsQuerySchema, summaryQuerySchema } from '../metrics/query';
import { teamsQuerySchema } from '../teams/query';
import {
  healthResponseSchema,
  metricsResponseSchema,
  metricsSummaryResponseSchema,
  openApiDocumentSchema,
  teamsResponseSchema,
} from './schemas';

/**
 * Every route of the API, described once from the same zod schemas the handlers parse with; the
 * OpenAPI document (lib/openapi/document.ts) is generated from this list. A new route adds an
 * entry here, with the schemas its handler uses.
 */
export interface RouteDescription {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Whether a bearer token is required when authentication is on. */
  auth: boolean;
  query?: z.ZodObject<z.ZodRawShape>;
  body?: z.ZodType;
  response: z.ZodType;
  responseDescription: string;
  /** Response headers worth naming (name -> description). */
  responseHeaders?: Record<string, string>;
  /** Whether the route calls Loki or GitHub (and so may answer 502/503/504). */
  upstream: boolean;
}

export const routes: RouteDescription[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness of the API',
    description: 'Calls no upstream: a Loki or GitHub outage does not show here.',
    auth: false,
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
    responseHeaders: { 'X-Cache': '`hit` when the answer came from the in-memory cache, else `miss`' },
    upstream: true,
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
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'One DORA metric per day, week or month',
    description:
      'A flat array for Grafana (Infinity) and scripts. The period is `start_date`/`end_date` (inclusive days) or `from`/`to` (epoch ms, as Grafana sends with `$__from`/`$__to`); empty values count as absent.',
    auth: true,
    query: metricsQuerySchema,
    response: metricsResponseSchema,
    responseDescription: 'The series of the metric',
    responseHeaders: { 'X-Cache': '`hit` or `miss`' },
    upstream: true,
  },
  {
    method: 'get',
    path: '/metrics/summary',
    operationId: 'getMetricsSummary',
    summary: 'The five DORA metrics of a period with levels and trend',
    auth: true,
    query: summaryQuerySchema,
    response: metricsSummaryResponseSchema,
    responseDescription: 'The summary of the period against the previous one',
    responseHeaders: { 'X-Cache': '`hit` or `miss`' },
    upstream: true,
  },
];
