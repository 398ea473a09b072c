import { verify } from '@octokit/webhooks-methods';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpError } from '../errors';

/**
 * Whether a delivery comes from GitHub: X-Hub-Signature-256, the HMAC-SHA256 of the exact body bytes with
 * the webhook's secret, checked by @octokit/webhooks-methods (constant-time comparison).
 */

/** Every signature problem answers the same: a caller learns nothing about the secret or what was wrong. */
export class WebhookSignatureError extends HttpError {
  override name = 'WebhookSignatureError';
  constructor() {
    super(401, "The delivery is not signed with this receiver's secret (X-Hub-Signature-256)");
  }
}

/** No secret configured: every delivery is refused, whoever signed it. */
export class WebhookNotConfiguredError extends HttpError {
  override name = 'WebhookNotConfiguredError';
  constructor() {
    super(503, 'The GitHub webhook receiver is not configured', {
      publicMessage: 'The GitHub webhook receiver is not configured',
    });
  }
}

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * The body exactly as it arrived, as text: API Gateway hands a body it considers binary over base64-encoded,
 * and the signature is over the bytes, so those are decoded first. Bytes that are not UTF-8 do not survive
 * the round trip to text, so their signature does not verify: refused, as no JSON payload can be such bytes.
 */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

/** Throws WebhookSignatureError unless `signature` is the sha256 HMAC of `body` with `secret`. */
export async function verifySignature(
  secret: string,
  body: string,
  signature: string | undefined,
): Promise<void> {
  // sha1-only deliveries (X-Hub-Signature) are refused: the header is never read.
  if (signature === undefined || !SIGNATURE.test(signature) || body === '') throw new WebhookSignatureError();
  if (!(await verify(secret, body, signature))) throw new WebhookSignatureError();
}
