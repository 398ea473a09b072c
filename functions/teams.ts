import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';
import { getTeams } from '../lib/teams/handler';

export const handler = routeHandler(route('getTeams'), getTeams);
