import { routeHandler } from '../lib/http/route';
import { route } from '../lib/openapi/routes';
import { deliveryOutcome, webhookHandler } from '../lib/webhooks/handler';

// No bearer token: GitHub signs each delivery instead (X-Hub-Signature-256), checked by the handler over
// the raw body, which no middleware parses (the entry's `rawBody`).
export const handler = routeHandler(route('postGitHubWebhook'), [deliveryOutcome()], webhookHandler);
