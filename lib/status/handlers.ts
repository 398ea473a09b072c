import { PayloadTooLargeError } from '../errors';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { logger } from '../logger';
import { getLokiWriter } from '../loki/push';
import { noteStatus } from './registry';
import type { StatusQuery, StatusReport } from './schema';
import { latestStatuses, MAX_STATUS_LINE_BYTES, statusEntry } from './store';

/**
 * `POST /api/status`: an agent reports the sync status of one repo:server pair. Answers exactly what
 * existing agents expect; errors are `{"status":"error","message":"..."}` (the stack's errorFormat).
 */
export async function postStatus({
  context,
  config,
  body: report,
}: RouteRequest<undefined, StatusReport>): Promise<HttpResponse> {
  const receivedAt = Date.now();
  const entry = statusEntry(report, config.serviceNamespace, receivedAt);
  const lineBytes = Buffer.byteLength(entry.line, 'utf8');
  if (lineBytes > MAX_STATUS_LINE_BYTES) {
    throw new PayloadTooLargeError(
      `The status is ${lineBytes} bytes as stored; at most ${MAX_STATUS_LINE_BYTES} bytes fit in one Loki line`,
    );
  }
  await getLokiWriter(config, context.secrets).push([entry]);
  noteStatus(report.repo, report.server, receivedAt);
  logger.info('gitops status written', {
    repo: report.repo,
    server: report.server,
    syncStatus: report.sync_status,
    driftCount: report.drift_count,
  });
  return jsonResponse(200, { status: 'ok', message: 'Status updated successfully' });
}

/** `GET /status.json`: the latest status of every repo:server pair, a flat array for Grafana Infinity. */
export async function getStatusJson({
  context,
  config,
  query: filter,
}: RouteRequest<StatusQuery>): Promise<HttpResponse> {
  const now = Date.now();
  const result = await latestStatuses(getLokiWriter(config, context.secrets), config, filter, now);
  for (const status of result.statuses) noteStatus(status.repo, status.server, Date.parse(status.updated_at));
  return jsonResponse(200, result.statuses, result.truncated ? { 'X-Status-Truncated': 'true' } : {});
}
