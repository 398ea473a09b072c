import { loadIntoLoki, uniqueServiceNamespace } from '../../dev/real-loki';
import type { LokiEntry } from '../../lib/loki/types';
import { DAY, ORG_END, ORG_START, testOrganisation } from './organisation';
import { describeWithRealLoki } from './real-loki';

interface Stored {
  labels: Record<string, string>;
  timestampNs: string;
  line: string;
}

/** Everything Loki holds under `serviceNamespace` in [start, end), asked one day at a time (each under one page). */
async function storedEntries(
  url: string,
  serviceNamespace: string,
  start: number,
  end: number,
): Promise<Stored[]> {
  const stored: Stored[] = [];
  for (let from = start; from < end; from += DAY) {
    const params = new URLSearchParams({
      query: `{service_namespace=${JSON.stringify(serviceNamespace)}}`,
      start: `${from}000000`,
      end: `${Math.min(from + DAY, end)}000000`,
      limit: '5000',
      direction: 'forward',
    });
    const response = await fetch(`${url}/loki/api/v1/query_range?${params}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
    };
    const day = body.data.result.flatMap(({ stream, values }) =>
      values.map(([timestampNs, line]) => ({ labels: stream, timestampNs, line })),
    );
    expect(day.length).toBeLessThan(5000);
    stored.push(...day);
  }
  return stored;
}

const key = (entry: { timestampNs: string; line: string; labels: Record<string, string> }) =>
  `${entry.timestampNs} ${entry.labels.service_name} ${entry.line}`;

describeWithRealLoki('loading generated events into a real Loki (dev/real-loki.ts)', (run) => {
  it('stores every entry of the organisation once, with its line and its labels as structured metadata', async () => {
    const { url, serviceNamespace } = run();
    const organisation = testOrganisation(serviceNamespace);

    const stored = await storedEntries(url, serviceNamespace, ORG_START - 3 * DAY, ORG_END);

    expect(stored.map(key).sort()).toEqual(organisation.entries.map(key).sort());
    const byKey = new Map(stored.map((entry) => [key(entry), entry]));
    for (const entry of organisation.entries.slice(0, 200)) {
      // Loki adds labels of its own (detected_level); every label pushed comes back.
      expect(byKey.get(key(entry))?.labels).toMatchObject(entry.labels);
    }
  });

  it('keeps runs apart: events loaded under another service_namespace are not seen under this one', async () => {
    const { url, serviceNamespace } = run();
    const other = uniqueServiceNamespace('dora-test');
    const entry: LokiEntry = {
      labels: { service_name: 'loading-check', service_namespace: other, source: 'test' },
      timestampNs: `${ORG_END - DAY}000000`,
      line: '{"hello":"other run"}',
    };

    const report = await loadIntoLoki(url, [entry]);
    const ours = await storedEntries(url, serviceNamespace, ORG_END - DAY, ORG_END - DAY + 1);
    const theirs = await storedEntries(url, other, ORG_END - DAY, ORG_END - DAY + 1);

    expect(report).toMatchObject({ entries: 1, streams: 1, pushes: 1, flushed: true });
    expect(other).not.toBe(serviceNamespace);
    expect(ours).toEqual([]);
    expect(theirs.map((stored) => stored.line)).toEqual([entry.line]);
  });

  it('refuses entries of one stream out of time order before pushing anything', async () => {
    const { url } = run();
    const labels = { service_name: 'loading-check', service_namespace: uniqueServiceNamespace('dora-test') };

    const loading = loadIntoLoki(url, [
      { labels, timestampNs: `${ORG_END - DAY}000000`, line: 'later' },
      { labels, timestampNs: `${ORG_END - 2 * DAY}000000`, line: 'earlier' },
    ]);

    await expect(loading).rejects.toThrow(/not in time order/);
  });
});
