import { routeHandler } from '../lib/http/route';
import { getMetricsSummary } from '../lib/metrics/handler';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('getMetricsSummary'), getMetricsSummary);
