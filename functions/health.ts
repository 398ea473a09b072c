import { getHealth } from '../lib/health';
import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('getHealth'), getHealth);
