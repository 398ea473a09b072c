import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';
import { getStatusJson } from '../lib/status/handlers';

export const handler = routeHandler(route('getGitOpsStatuses'), getStatusJson);
