import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { DeploymentRecord } from '../../lib/dora/types';
import { invoke } from './lambda';

/**
 * `POST /data` for `team` over 30 days ending `end` (no cache): its records, their repositories, and the
 * LogQL queries the request sent to the Loki stand-in.
 */
export async function postTeamData(
  handler: typeof DataHandler,
  loki: LokiServer,
  team: string,
  end: number,
): Promise<{ records: DeploymentRecord[]; repositories: Set<string>; queries: string[] }> {
  const requestsBefore = loki.requests.length;
  const response = await invoke(handler, {
    method: 'POST',
    path: '/data',
    query: { no_cache: 'true' },
    body: { start: new Date(end - 30 * 86_400_000).toISOString(), end: new Date(end).toISOString(), team },
  });
  if (response.statusCode !== 200)
    throw new Error(`POST /data answered ${response.statusCode}: ${response.body}`);
  const { records } = response.json as { records: DeploymentRecord[] };
  return {
    records,
    repositories: new Set(records.map((record) => record.repository)),
    queries: loki.requests.slice(requestsBefore).map((request) => request.params.get('query') ?? ''),
  };
}
