import type { RecordedRequest } from '../../dev/loki-server';
import { DataService } from '../../lib/data/service';

const DAY = 86_400_000;

/**
 * What a set of query_range requests asked of Loki: the chunks (a chunk's pages share its end and
 * start further on), the UTC days they touch, and how many days two chunks both covered.
 */
export function daysAsked(requests: readonly RecordedRequest[]): {
  chunks: number;
  days: number;
  first: number;
  askedTwice: number;
} {
  const starts = new Map<string, number>();
  for (const request of requests) {
    if (!request.path.endsWith('/query_range')) continue;
    const start = Number(BigInt(request.params.get('start') ?? '0') / 1_000_000n);
    const end = request.params.get('end') ?? '';
    starts.set(end, Math.min(starts.get(end) ?? Number.POSITIVE_INFINITY, start));
  }
  const chunks = [...starts].map(([end, start]) => ({ start, end: Number(BigInt(end) / 1_000_000n) }));
  const days = new Map<number, number>();
  for (const chunk of chunks) {
    for (let day = Math.floor(chunk.start / DAY) * DAY; day < chunk.end; day += DAY) {
      days.set(day, (days.get(day) ?? 0) + 1);
    }
  }
  return {
    chunks: chunks.length,
    days: days.size,
    first: Math.min(...chunks.map((chunk) => chunk.start)),
    askedTwice: [...days.values()].filter((times) => times > 1).length,
  };
}

/**
 * `call`'s answer, and its answer when the data service reads deployments and merges a look-around
 * before the records it is asked for (as `/metrics` did before it read from its look-around's start).
 */
export async function answersReadingALookaroundFurtherBack<T>(
  call: () => Promise<T>,
): Promise<{ now: T; before: T }> {
  const now = await call();
  const load = DataService.prototype.loadDeployments;
  const spy = jest.spyOn(DataService.prototype, 'loadDeployments').mockImplementation(function (
    this: DataService,
    query,
    options,
  ) {
    const { readStart: _readStart, ...earlier } = query;
    return load.call(this, earlier, options);
  });
  try {
    const before = await call();
    // A check of the check: the earlier reading must really have been asked for.
    if (spy.mock.calls.length === 0) throw new Error('the call loaded no deployments');
    return { now, before };
  } finally {
    spy.mockRestore();
  }
}
