import { routeHandler } from '../lib/http/route';
import { getMetrics } from '../lib/metrics/handler';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('getMetrics'), getMetrics);
