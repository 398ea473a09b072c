import type { handler as DataHandler } from '../../functions/data';
import { formatTime } from '../../lib/dora/time';
import type { DeploymentRecord } from '../../lib/dora/types';
import { invoke } from './lambda';

/** Now in whole seconds, so times compare equal after the API's formatting. */
export const wholeSecondsNow = () => Math.floor(Date.now() / 1000) * 1000;

/** The `/data` records of one repository in [start, end), read fresh (no cache); fails unless 200. */
export async function recordsOf(
  data: typeof DataHandler,
  repository: string,
  start: number,
  end: number,
): Promise<DeploymentRecord[]> {
  const response = await invoke(data, {
    method: 'POST',
    path: '/data',
    query: { no_cache: 'true' },
    body: { start: formatTime(start), end: formatTime(end), repositories: [repository] },
  });
  expect(response.statusCode).toBe(200);
  return (response.json as { records: DeploymentRecord[] }).records;
}
