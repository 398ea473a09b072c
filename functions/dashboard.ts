import { getDashboard } from '../lib/dashboard/handler';
import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler([route('getDashboard'), route('redirectToDashboard')], getDashboard);
