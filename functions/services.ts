import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';
import { getServices } from '../lib/services/handler';

export const handler = routeHandler(route('getServices'), getServices);
