import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';
import { postStatus } from '../lib/status/handlers';

export const handler = routeHandler(route('postGitOpsStatus'), postStatus);
