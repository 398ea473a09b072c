import { routeHandler } from '../lib/http/route';
import { getOpenApi } from '../lib/openapi/handler';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('getOpenApi'), getOpenApi);
