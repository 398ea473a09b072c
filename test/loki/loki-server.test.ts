import { goDuration, type LokiServer, promDuration, startLokiServer } from '../../dev/loki-server';
import type { LokiEntry } from '../../lib/loki/types';

const T0 = 1_725_000_000_000_000_000n; // 2024-08-30T06:40:00Z in ns

function entry(
  offsetSeconds: number,
  labels: Record<string, string>,
  line = `line ${offsetSeconds}`,
): LokiEntry {
  return {
    labels: { service_namespace: 'github', ...labels },
    timestampNs: String(T0 + BigInt(offsetSeconds) * 1_000_000_000n),
    line,
  };
}

const ENTRIES: LokiEntry[] = [
  entry(0, { vcs_repository_name: 'infra', deployment_status: 'success' }, '{"n":0}'),
  entry(1, { vcs_repository_name: 'infra-tools', deployment_status: 'failure' }, '{"n":1,"note":"incident"}'),
  entry(2, { vcs_repository_name: 'web', deployment_status: 'success', merged_at: '' }, '{"n":2}'),
  entry(3, { vcs_repository_name: 'web', event_name: 'change_closed', merged_at: '2024-01-01' }, '{"n":3}'),
  entry(4, { vcs_repository_name: 'infra', deployment_status: 'success' }, '{"n":4}'),
  entry(5, { service_namespace: 'other', vcs_repository_name: 'infra' }, '{"n":5}'),
];

let server: LokiServer;

beforeAll(async () => {
  server = await startLokiServer({ entries: ENTRIES, maxQueryLengthMs: 24 * 3_600_000 });
});

afterAll(async () => {
  await server.close();
});

interface Answer {
  status: number;
  text: string;
  lines: string[];
  timestamps: string[];
}

async function queryRange(params: Record<string, string>, init: RequestInit = {}): Promise<Answer> {
  const search = new URLSearchParams({
    start: String(T0),
    end: String(T0 + 3_600_000_000_000n),
    ...params,
  });
  const response = await fetch(`${server.url}/loki/api/v1/query_range?${search}`, init);
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, text, lines: [], timestamps: [] };
  const body = JSON.parse(text) as { data: { result: Array<{ values: Array<[string, string]> }> } };
  const values = body.data.result.flatMap((stream) => stream.values);
  return {
    status: 200,
    text,
    lines: values.map(([, line]) => line),
    timestamps: values.map(([timestampNs]) => timestampNs),
  };
}

const numbers = (answer: Answer) =>
  answer.lines.map((line) => (JSON.parse(line) as { n: number }).n).sort((a, b) => a - b);

describe('the stand-in Loki query_range', () => {
  it('answers newest first by default and cuts the page at limit', async () => {
    const answer = await queryRange({ query: '{service_namespace="github"}', limit: '2' });
    expect(numbers(answer)).toEqual([3, 4]);
  });

  it('gives the oldest entries first with direction=forward', async () => {
    const answer = await queryRange({
      query: '{service_namespace="github"}',
      limit: '2',
      direction: 'forward',
    });
    expect(numbers(answer)).toEqual([0, 1]);
  });

  it('treats start as inclusive and end as exclusive, in ns and in RFC 3339', async () => {
    const inNs = await queryRange({
      query: '{service_namespace="github"}',
      start: String(T0 + 1_000_000_000n),
      end: String(T0 + 4_000_000_000n),
    });
    const inRfc3339 = await queryRange({
      query: '{service_namespace="github"}',
      start: '2024-08-30T06:40:01Z',
      end: '2024-08-30T06:40:04.000000000Z',
    });
    expect(numbers(inNs)).toEqual([1, 2, 3]);
    expect(numbers(inRfc3339)).toEqual([1, 2, 3]);
  });

  it('anchors regular expressions: infra does not match infra-tools', async () => {
    const answer = await queryRange({ query: '{service_namespace="github"} | vcs_repository_name=~"infra"' });
    expect(numbers(answer)).toEqual([0, 4]);
  });

  it('filters on structured metadata, ANDing comma-separated matchers', async () => {
    const answer = await queryRange({
      query: '{service_namespace="github"} | deployment_status=~"failure|success", vcs_repository_name="web"',
    });
    expect(numbers(answer)).toEqual([2]);
  });

  it('compares a missing label as the empty string', async () => {
    const answer = await queryRange({ query: '{service_namespace="github"} | merged_at!=""' });
    expect(numbers(answer)).toEqual([3]);
  });

  it('supports or with parentheses in label filters', async () => {
    const answer = await queryRange({
      query:
        '{service_namespace="github"} | (vcs_repository_name="web" or deployment_status="failure"), merged_at=""',
    });
    expect(numbers(answer)).toEqual([1, 2]);
  });

  it('applies line filters: contains, not contains, regex', async () => {
    const contains = await queryRange({ query: '{service_namespace="github"} |= "incident"' });
    const notContains = await queryRange({
      query: '{service_namespace="github"} != "incident" !~ "\\"n\\":[04]"',
    });
    const regex = await queryRange({ query: '{service_namespace="github"} |~ `(?i)INCIDENT`' });
    expect(numbers(contains)).toEqual([1]);
    expect(numbers(notContains)).toEqual([2, 3]);
    expect(numbers(regex)).toEqual([1]);
  });

  it('groups entries into one stream per label set', async () => {
    const answer = await queryRange({ query: '{vcs_repository_name="infra"}' });
    const body = JSON.parse(answer.text) as { data: { result: Array<{ stream: Record<string, string> }> } };
    expect(body.data.result.map((stream) => stream.stream.service_namespace).sort()).toEqual([
      'github',
      'other',
    ]);
  });

  it('shows only the labels of keep, merging streams that differ in the others, after filtering on them', async () => {
    const answer = await queryRange({
      query: '{service_namespace="github"} | deployment_status="success" | keep vcs_repository_name',
    });
    const body = JSON.parse(answer.text) as {
      data: { result: Array<{ stream: Record<string, string>; values: unknown[] }> };
    };
    const streams = body.data.result.map((stream) => [stream.stream, stream.values.length]);
    expect(streams).toEqual(
      expect.arrayContaining([
        [{ vcs_repository_name: 'infra' }, 2],
        [{ vcs_repository_name: 'web' }, 1],
      ]),
    );
    expect(streams).toHaveLength(2);
  });

  it('orders the streams of an answer by their label sets, in both directions, as Loki 3.7.6 does', async () => {
    const query =
      '{service_namespace="github"} | deployment_status=~".+" | keep vcs_repository_name, deployment_status';

    const forward = await queryRange({ query, direction: 'forward' });
    const backward = await queryRange({ query, direction: 'backward' });

    const order = (answer: Answer) =>
      (
        JSON.parse(answer.text) as { data: { result: Array<{ stream: Record<string, string> }> } }
      ).data.result.map(
        (stream) => `${stream.stream.deployment_status} ${stream.stream.vcs_repository_name}`,
      );
    // Sorted on the text {deployment_status="...", vcs_repository_name="..."}, not on the entries' times.
    expect(order(forward)).toEqual(['failure infra-tools', 'success infra', 'success web']);
    expect(order(backward)).toEqual(order(forward));
  });

  it('hides the labels named by drop', async () => {
    const answer = await queryRange({ query: '{vcs_repository_name="web"} | drop merged_at, event_name' });
    const body = JSON.parse(answer.text) as { data: { result: Array<{ stream: Record<string, string> }> } };
    const labelNames = body.data.result.map((stream) => Object.keys(stream.stream).sort().join(','));
    expect(labelNames.sort()).toEqual([
      'deployment_status,service_namespace,vcs_repository_name',
      'service_namespace,vcs_repository_name',
    ]);
  });

  it('rejects a limit above max_entries_limit_per_query with Loki plain-text message (no trailing newline, as Loki 3.7.6)', async () => {
    const answer = await queryRange({ query: '{service_namespace="github"}', limit: '6000' });
    expect(answer).toMatchObject({
      status: 400,
      text: 'max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)',
    });
  });

  it('rejects a range longer than max_query_length with Loki plain-text message', async () => {
    const answer = await queryRange({
      query: '{service_namespace="github"}',
      end: String(T0 + 59n * 3_600_000_000_000n),
    });
    expect(answer).toMatchObject({
      status: 400,
      text: 'the query time range exceeds the limit (query length: 59h0m0s, limit: 1d)',
    });
  });

  it.each([
    [
      '{service_namespace="github"} |= "unterminated',
      'parse error at line 1, col 33: literal not terminated',
    ],
    ['{service_namespace="github" | x="y"', 'parse error at line 1, col 29'],
    ['{service_namespace=~".*"}', 'queries require at least one regexp or equality matcher'],
  ])('rejects the malformed query %s with a plain-text parse error', async (query, message) => {
    const answer = await queryRange({ query });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain(message);
  });

  it('accepts form-encoded POST queries', async () => {
    const response = await fetch(`${server.url}/loki/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        query: '{vcs_repository_name="web"}',
        start: String(T0),
        end: String(T0 + 10_000_000_000n),
      }),
    });
    const body = (await response.json()) as { data: { result: unknown[] } };
    expect(body.data.result).toHaveLength(2);
  });

  it('answers categorize-labels with metadata beside each value', async () => {
    const answer = await queryRange(
      { query: '{vcs_repository_name="web"} | merged_at!=""' },
      { headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } },
    );
    const body = JSON.parse(answer.text);
    expect(body.data.encodingFlags).toEqual(['categorize-labels']);
    expect(body.data.result[0].stream).toEqual({ service_namespace: 'github' });
    expect(body.data.result[0].values[0][2].structuredMetadata.vcs_repository_name).toBe('web');
  });
});

describe('the stand-in Loki push and auth', () => {
  it('stores pushed entries with their structured metadata as labels', async () => {
    const pushServer = await startLokiServer();
    try {
      const response = await fetch(`${pushServer.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          streams: [
            { stream: { service_namespace: 'github' }, values: [[String(T0), 'pushed', { team_name: 'a' }]] },
          ],
        }),
      });
      const search = new URLSearchParams({
        query: '{service_namespace="github"} | team_name="a"',
        start: String(T0),
      });
      const answer = await fetch(`${pushServer.url}/loki/api/v1/query_range?${search}&end=${T0 + 1n}`);
      const body = (await answer.json()) as { data: { result: Array<{ values: unknown[] }> } };
      expect(response.status).toBe(204);
      expect(body.data.result[0]?.values).toEqual([[String(T0), 'pushed']]);
    } finally {
      await pushServer.close();
    }
  });

  it.each([
    // Measured on Loki 3.7.6 (discover_log_levels on by default): the label comes from a level label or
    // metadata, a level field of a JSON (at any depth) or logfmt line, else a whole level word of the line.
    ['an error occurred', {}, 'error'],
    ['ERR: x', {}, 'error'],
    ['terrible', {}, 'unknown'],
    ['information here', {}, 'unknown'],
    ['deploy failed', {}, 'unknown'],
    ['warning and info', {}, 'warn'],
    ['Fatal crash', {}, 'fatal'],
    ['{"msg":"boom error"}', {}, 'error'],
    ['{"level":"warn","msg":"error"}', {}, 'warn'],
    ['{"severity":"DEBUG"}', {}, 'debug'],
    ['{"lvl":"trc"}', {}, 'trace'],
    ['{"nested":{"level":"debug"}}', {}, 'debug'],
    ['level=info msg=error', {}, 'info'],
    ['with meta', { level: 'critical' }, 'critical'],
  ])('adds detected_level to the pushed line %j as Loki 3.7.6 does', async (line, metadata, level) => {
    const pushServer = await startLokiServer();
    try {
      await fetch(`${pushServer.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          streams: [{ stream: { service_namespace: 'github' }, values: [[String(T0), line, metadata]] }],
        }),
      });
      const search = new URLSearchParams({
        query: '{service_namespace="github"}',
        start: String(T0),
        end: String(T0 + 1n),
      });
      const answer = await fetch(`${pushServer.url}/loki/api/v1/query_range?${search}`);
      const body = (await answer.json()) as { data: { result: Array<{ stream: Record<string, string> }> } };

      expect(body.data.result[0]?.stream.detected_level).toBe(level);
    } finally {
      await pushServer.close();
    }
  });

  it('answers 401 without the required credentials and accepts Basic or Bearer', async () => {
    const authServer = await startLokiServer({ requireAuth: { user: 'u', token: 't0k' } });
    try {
      const url = `${authServer.url}/loki/api/v1/labels`;
      const none = await fetch(url);
      const basic = await fetch(url, {
        headers: { authorization: `Basic ${Buffer.from('u:t0k').toString('base64')}` },
      });
      const bearer = await fetch(url, { headers: { authorization: 'Bearer t0k' } });
      const wrong = await fetch(url, { headers: { authorization: 'Bearer nope' } });
      expect([none.status, basic.status, bearer.status, wrong.status]).toEqual([401, 200, 200, 401]);
    } finally {
      await authServer.close();
    }
  });
});

describe('Loki duration texts', () => {
  it.each([
    [1416n * 3_600_000_000_000n, '1416h0m0s'],
    [90_500_000_000n, '1m30.5s'],
    [500_000_000n, '500ms'],
  ])('writes %s ns as Go does: %s', (ns, text) => {
    expect(goDuration(ns)).toBe(text);
  });

  it.each([
    [(30 * 24 + 1) * 3_600_000, '30d1h'],
    [721 * 3_600_000, '30d1h'],
    [14 * 86_400_000, '2w'],
  ])('writes %s ms as Prometheus does: %s', (ms, text) => {
    expect(promDuration(ms)).toBe(text);
  });
});
