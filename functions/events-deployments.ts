import { postDeploymentEvent } from '../lib/events/handlers';
import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';

export const handler = routeHandler(route('postDeploymentEvent'), postDeploymentEvent);
