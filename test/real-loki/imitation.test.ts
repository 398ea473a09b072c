import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { loadIntoLoki, uniqueServiceNamespace } from '../../dev/real-loki';
import type { LokiEntry } from '../../lib/loki/types';
import { DAY, ORG_END, testOrganisation } from './organisation';
import { describeWithRealLoki, realLokiLimits } from './real-loki';

/**
 * The imitation (dev/loki-server.ts) answers raw query_range requests as the real Loki does: the same
 * streams in the same order, the same labels (structured metadata merged, `detected_level` added at
 * push, `keep`), the same values, and the same plain-text 400s. Both receive the same pushes. Where
 * these found a difference, the imitation was fixed and its conformance suite
 * (test/loki/loki-server.test.ts) names the real behaviour.
 */

const START = ORG_END - 10 * DAY;
/** The Loki's own limits (its GET /config), which the imitation is given too. */
const LIMITS = realLokiLimits();
/** A range past the Loki's max_query_length; 40 days when it sets none (both answer it then). */
const LONG_RANGE =
  LIMITS.maxQueryLengthMs > 0
    ? {
        name: 'a range past max_query_length',
        start: `${ORG_END - LIMITS.maxQueryLengthMs - 10 * DAY}000000`,
      }
    : { name: 'a 40-day range (this Loki sets no max_query_length)', start: `${ORG_END - 40 * DAY}000000` };

describeWithRealLoki('the imitation answers query_range as the real Loki does', (run) => {
  const serviceNamespace = uniqueServiceNamespace('dora-test-raw');
  const selector = `{service_namespace=${JSON.stringify(serviceNamespace)}}`;
  let imitation: LokiServer;

  beforeAll(async () => {
    // Few entries, pushed at an ordinary pace: a stream pushed faster than Loki's per-stream rate is
    // sharded (a __stream_shard__ label), which the bulk-loaded organisation shows and users' Lokis rarely do.
    const entries: LokiEntry[] = testOrganisation(serviceNamespace).entries.filter(
      (entry) =>
        ['payments-api', 'web-storefront'].includes(entry.labels.service_name ?? '') &&
        BigInt(entry.timestampNs) >= BigInt(START) * 1_000_000n,
    );
    imitation = await startLokiServer({
      maxQueryLengthMs: LIMITS.maxQueryLengthMs,
      maxEntriesLimitPerQuery: LIMITS.maxEntriesLimitPerQuery,
    });
    await loadIntoLoki(run().url, entries);
    await loadIntoLoki(imitation.url, entries);
  });
  afterAll(async () => imitation.close());

  async function ask(url: string, params: Record<string, string>, headers: Record<string, string>) {
    const search = new URLSearchParams({ start: `${START}000000`, end: `${ORG_END}000000`, ...params });
    const response = await fetch(`${url}/loki/api/v1/query_range?${search}`, { headers });
    const text = await response.text();
    if (response.status !== 200) return { status: response.status, text };
    const body = JSON.parse(text) as {
      status: string;
      data: { resultType: string; result: unknown; encodingFlags?: unknown };
    };
    return {
      status: 200,
      body: {
        status: body.status,
        resultType: body.data.resultType,
        result: body.data.result,
        encodingFlags: body.data.encodingFlags,
      },
    };
  }

  const CATEGORIZE = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };
  it.each([
    ['every label, forward', { query: selector, limit: '40', direction: 'forward' }, {}],
    ['every label, backward (the default)', { query: selector, limit: '40' }, {}],
    ['structured metadata apart', { query: selector, limit: '40', direction: 'forward' }, CATEGORIZE],
    [
      'a label filter and keep',
      {
        query: `${selector} | deployment_status=~"failure|success" | keep vcs_repository_name, team_name`,
        limit: '200',
        direction: 'forward',
      },
      {},
    ],
    [
      'keep with structured metadata apart',
      {
        query: `${selector} | event_name="change_closed", merged_at!="" | keep vcs_repository_name, detected_level`,
        limit: '200',
      },
      CATEGORIZE,
    ],
    [
      'a line filter',
      { query: `${selector} |~ "(?i)(?:incident|merged)"`, limit: '30', direction: 'forward' },
      {},
    ],
    [
      'a limit above max_entries_limit_per_query',
      { query: selector, limit: String(LIMITS.maxEntriesLimitPerQuery + 1000) },
      {},
    ],
    [LONG_RANGE.name, { query: selector, start: LONG_RANGE.start }, {}],
    ['a literal not terminated', { query: `${selector} |= "open` }, {}],
    ['a selector that matches everything', { query: '{service_namespace=~".*"}' }, {}],
  ] as Array<[string, Record<string, string>, Record<string, string>]>)(
    '%s',
    async (_case, params, headers) => {
      const real = await ask(run().url, params, headers);
      const imitated = await ask(imitation.url, params, headers);

      expect(imitated).toEqual(real);
    },
  );

  it.each([
    ['the service names of the namespace', { query: selector }],
    ['with a pipeline stage', { query: `${selector} | team_name="Payments"` }],
    [`over ${LONG_RANGE.name}`, { query: selector, start: LONG_RANGE.start }],
  ] as Array<[string, Record<string, string>]>)('label values: %s', async (_case, params) => {
    const ask = async (url: string) => {
      const search = new URLSearchParams({ start: `${START}000000`, end: `${ORG_END}000000`, ...params });
      const response = await fetch(`${url}/loki/api/v1/label/service_name/values?${search}`);
      const text = await response.text();
      return response.status === 200
        ? { status: 200, body: JSON.parse(text) }
        : { status: response.status, text };
    };

    const real = await ask(run().url);
    const imitated = await ask(imitation.url);

    expect(imitated).toEqual(real);
  });
});
