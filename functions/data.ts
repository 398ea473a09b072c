import { postData } from '../lib/data/handler';
import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('postData'), postData);
