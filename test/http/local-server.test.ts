import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { sampleTeams } from '../../lib/sample/generator';
import { freePort, type LocalServer, startLocalServer } from '../helpers/local-server';
import { mintToken, TEST_JWT_SECRET } from '../security/tokens';

/**
 * What the dashboards send, through the running local server (`npm start`: serverless offline over the Loki
 * imitation and the GitHub stand-in), over HTTP: serverless-offline builds the events, not the tests. One
 * start serves the whole file. Request shapes are quoted from the clients' code:
 * - react-dora-charts 1.1.8, src/functions/fetchFunctions.tsx `fetchData`:
 *   `body = { repositories: props.repositories, team: props.team, start: start, end: end }` with
 *   `start = getDateDaysInPastUtc(props.daysToPull ?? defaultDaysToPull /* 356 *\/)`, `end = getDateDaysInPastUtc(1)`,
 *   then `filterFetchedData`: `const teamMatch = !props.team || record.team === props.team`.
 * - @liatrio/backstage-dora-plugin 1.1.3, src/components/Charts.tsx: `fetch(serviceListUrl, { headers:
 *   { Authorization: authHeader || '' } })`, `for (const entry of services_data.services)`, and
 *   `fetchOptions.service = service` (service selection) or `fetchOptions.repositories = repositories!`.
 * - backstage-liatrio-dora-plugin 0.3.27 (the first generation), src/components/Charts.tsx: `fetchTeams(teamListUrl,
 *   ...)`, `for(var entry of teams_data.teams) { label: entry, value: entry }`, `fetchOptions.team = team`.
 */
jest.setTimeout(120_000);

/** npm start's generated organisation (dev/start.ts: seed 42, 12 repositories, 5 teams). */
const TEAMS = sampleTeams();
const PLATFORM = TEAMS.find((team) => team.slug === 'platform-core');
if (PLATFORM === undefined) throw new Error('npm start no longer generates the team Platform Core');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

interface Record_ {
  repository: string;
  team: string | null;
  title: string | null;
  user: string | null;
  status: boolean;
  failed_at: string | null;
  merged_at: string | null;
  created_at: string;
  fixed_at: string | null;
}

let server: LocalServer;
let blocker: Server | undefined;
let token: string;

/** A raw HTTP request: any method with any body and headers, as curl or a misbehaving client sends it. */
function send(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; auth?: boolean } = {},
): Promise<Answer> {
  // With a length, as curl and browsers send bodies (not chunked).
  const headers = {
    ...(options.auth === false ? {} : { authorization: `Bearer ${token}` }),
    ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    // A connection of its own: serverless offline leaves an unread GET body on the socket, which would spoil the
    // next request of a kept-alive connection.
    const request = httpRequest(`${server.baseUrl}${path}`, { method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
      });
    });
    request.on('error', reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/** react-dora-charts' getDateDaysInPastUtc: UTC midnight of the day `days` ago. */
function daysInPastUtc(days: number): Date {
  const date = new Date();
  date.setDate(date.getDate() - days);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** react-dora-charts 1.1.8 fetchData: the body it posts and the records it keeps. */
async function reactDoraCharts(props: { team?: string; repositories?: string[]; daysToPull?: number }) {
  const body = {
    repositories: props.repositories,
    team: props.team,
    start: daysInPastUtc(props.daysToPull ?? 356),
    end: daysInPastUtc(1),
  };
  const answer = await send('POST', '/data', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const records = (answer.json as { records?: Record_[] } | undefined)?.records ?? [];
  const kept = records.filter((record) => {
    const repositoryMatch =
      props.repositories === undefined ||
      props.repositories.length === 0 ||
      props.repositories.includes(record.repository);
    const teamMatch = !props.team || record.team === props.team;
    return repositoryMatch && teamMatch;
  });
  return { answer, records, kept };
}

beforeAll(async () => {
  token = await mintToken({ expiresIn: '1h' });
  // serverless-offline's Lambda port would be PORT + 2: taken here, so npm start must pick another one
  // (what a second `PORT=3100 npm start` beside a first one runs into).
  const port = await freePort();
  blocker = createServer();
  await new Promise<void>((resolve) => {
    blocker?.once('error', () => {
      blocker = undefined;
      resolve();
    });
    blocker?.listen(port + 2, '127.0.0.1', () => resolve());
  });
  server = await startLocalServer({ AUTH_JWT_SECRET: TEST_JWT_SECRET }, { port });
});

afterAll(async () => {
  await server?.kill();
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
});

describe('npm start beside another instance', () => {
  it("comes up when PORT + 2 (serverless-offline's Lambda port) is taken, on a port of its own", () => {
    expect(server.output()).not.toMatch(/EADDRINUSE/);
  });
});

describe('hostile requests over HTTP to the local server', () => {
  const PERIOD = JSON.stringify({ start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' });
  const JSON_TYPE = { 'content-type': 'application/json' };
  /** method, path, what is hostile, the request, the status, the field `errors` must name (or undefined). */
  type Case = [
    string,
    string,
    string,
    { headers?: Record<string, string>; body?: string },
    number,
    string | undefined,
  ];

  const bodies: Array<[string, string | undefined, Record<string, string>]> = [
    ['no body and no content type', undefined, {}],
    ['an empty body', '', JSON_TYPE],
    ['the JSON body null', 'null', JSON_TYPE],
    ['a JSON string', '"start"', JSON_TYPE],
    ['an array', '[1,2,3]', JSON_TYPE],
    ['a huge number', '1e999', JSON_TYPE],
    ['a 40-digit number', '1234567890123456789012345678901234567890', JSON_TYPE],
    [
      'a form body (wrong content type)',
      'start=2026-10-01',
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
    ['XML (wrong content type)', '<data start="2026-10-01"/>', { 'content-type': 'application/xml' }],
    ['malformed JSON without a content type', '{"start": "2026-', {}],
  ];
  const postRoutes = ['/data', '/events/deployments', '/events/incidents'];
  const postCases: Case[] = postRoutes.flatMap((path) =>
    bodies.map(
      ([name, body, headers]): Case => [
        'POST',
        path,
        name,
        { headers, ...(body === undefined ? {} : { body }) },
        400,
        undefined,
      ],
    ),
  );
  const getCases: Case[] = [
    ['GET', '/teams?fields=name&fields=name', 'repeated query parameters', {}, 400, 'fields'],
    ['GET', '/services?no_cache=true&no_cache=true', 'repeated query parameters', {}, 400, 'no_cache'],
    [
      'GET',
      '/metrics?metric=rework_rate&metric=deployment_frequency',
      'repeated query parameters',
      {},
      400,
      'metric',
    ],
    [
      'GET',
      '/metrics/summary?start_date=2026-10-01&start_date=2026-10-02',
      'repeated query parameters',
      {},
      400,
      'start_date',
    ],
    [
      'POST',
      '/data?no_cache=true&no_cache=true',
      'repeated query parameters',
      { headers: JSON_TYPE, body: PERIOD },
      400,
      'no_cache',
    ],
    [
      'GET',
      '/metrics?metric=rework_rate&start_date=99999999999999999999',
      'a huge number as a date',
      {},
      400,
      'start_date',
    ],
    ['GET', '/metrics?metric=rework_rate&from=1e999', 'a huge number as from', {}, 400, 'from'],
  ];

  it.each([...postCases, ...getCases])(
    '%s %s: %s answers %d with the problem JSON',
    async (method, path, _name, request, status, field) => {
      const answer = await send(method, path, request);

      expect({ status: answer.status, type: answer.headers['content-type'] }).toEqual({
        status,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(answer.json).toMatchObject({ type: 'about:blank', status, detail: expect.any(String) });
      if (field !== undefined) {
        expect((answer.json as { errors?: unknown[] }).errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field })]),
        );
      }
    },
  );

  it.each([
    '/teams',
    '/services',
    '/metrics?metric=rework_rate',
    '/metrics/summary',
    '/status.json',
    '/health',
  ])(
    'GET %s with a body is answered as without it (serverless offline drops GET bodies; the functions refuse them)',
    async (path) => {
      const plain = await send('GET', path);

      const withBody = await send('GET', path, { headers: JSON_TYPE, body: '{"team":"x"}' });

      expect(withBody.status).toBe(plain.status);
      expect(withBody.status).toBeLessThan(500);
    },
  );

  it.each(bodies)(
    "POST /api/status with %s answers 400 in the agents' own error shape",
    async (_name, body, headers) => {
      const answer = await send('POST', '/api/status', { headers, ...(body === undefined ? {} : { body }) });

      expect({ status: answer.status, body: answer.json }).toEqual({
        status: 400,
        body: { status: 'error', message: expect.any(String) },
      });
    },
  );

  it('answers 401 with the problem JSON and WWW-Authenticate without a token', async () => {
    const answer = await send('POST', '/data', { headers: JSON_TYPE, body: PERIOD, auth: false });

    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(answer.json).toMatchObject({ status: 401 });
  });
});

describe('react-dora-charts 1.1.8 through the local server', () => {
  it('keeps every record of `{"team":"platform-core"}` (slug) after `record.team === props.team`', async () => {
    const { answer, records, kept } = await reactDoraCharts({ team: PLATFORM.slug });

    expect(answer.status).toBe(200);
    expect(records.length).toBeGreaterThan(0);
    expect(kept).toHaveLength(records.length);
  });

  it('keeps every record of `{"team":"Platform Core"}` (name) after `record.team === props.team`', async () => {
    const bySlug = await reactDoraCharts({ team: PLATFORM.slug });

    const { records, kept } = await reactDoraCharts({ team: PLATFORM.name });

    expect(kept).toHaveLength(records.length);
    expect(records.map((record) => record.created_at)).toEqual(
      bySlug.records.map((record) => record.created_at),
    );
  });

  it('answers `"team": ""` (no team chosen) with every record, as without a team', async () => {
    const all = await reactDoraCharts({});

    const empty = await reactDoraCharts({ team: '' });

    expect(empty.answer.status).toBe(200);
    expect(empty.records).toEqual(all.records);
    expect(new Set(all.records.map((record) => record.team)).size).toBeGreaterThan(1);
  });

  it('answers `"repositories": []` with every record', async () => {
    const all = await reactDoraCharts({});

    const empty = await reactDoraCharts({ repositories: [] });

    expect(empty.records).toEqual(all.records);
  });

  it('answers `daysToPull: 731` (a two-year window) with 200', async () => {
    const { answer, records } = await reactDoraCharts({ daysToPull: 731 });

    expect(answer.status).toBe(200);
    expect(records.length).toBeGreaterThan(0);
  });

  it('gets records the library can read: status:false has failed_at, times parse with new Date, merged_at/title/user null together', async () => {
    const { records } = await reactDoraCharts({});

    expect(records.length).toBeGreaterThan(100);
    const problems = records.flatMap((record) => {
      const found: string[] = [];
      if (!record.status && record.failed_at === null) found.push('status:false without failed_at');
      for (const key of ['created_at', 'failed_at', 'merged_at', 'fixed_at'] as const) {
        const value = record[key];
        if (value !== null && (Number.isNaN(new Date(value).getTime()) || !value.endsWith('Z'))) {
          found.push(`${key} ${value} is not a UTC time new Date reads`);
        }
      }
      const nulls = [record.merged_at, record.title, record.user].map((value) => value === null);
      if (new Set(nulls).size > 1) found.push('merged_at/title/user not null together');
      return found.map((problem) => `${record.repository}@${record.created_at}: ${problem}`);
    });
    expect(problems).toEqual([]);
    expect(records.some((record) => !record.status)).toBe(true);
  });
});

describe('@liatrio/backstage-dora-plugin 1.1.3 (`serviceListEndpoint: services`) through the local server', () => {
  let services: string[];

  beforeAll(async () => {
    // `fetch(url, { headers: { Authorization: authHeader || '' } })`, then `response.json()`.
    const answer = await send('GET', '/services');
    services = (answer.json as { services: string[] }).services;
  });

  it('lists `services_data.services` as names from `GET /services`', () => {
    expect(services).toEqual(
      TEAMS.flatMap((team) => team.repositories).sort((a, b) => a.localeCompare(b, 'en')),
    );
  });

  it("narrows `GET /services?team=platform-core` to the team's services", async () => {
    const answer = await send('GET', `/services?team=${PLATFORM.slug}`);

    expect(answer.json).toEqual({
      services: [...PLATFORM.repositories].sort((a, b) => a.localeCompare(b, 'en')),
    });
  });

  it('answers `fetchOptions.service = service` (`{"service": "<name>"}`) with that service\'s records only', async () => {
    const service = services[0] as string;

    const answer = await send('POST', '/data', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ service, start: daysInPastUtc(30), end: daysInPastUtc(0) }),
    });

    const records = (answer.json as { records: Record_[] }).records;
    expect(answer.status).toBe(200);
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((record) => record.repository))).toEqual(new Set([service]));
  });

  it("answers the entity page's `fetchOptions.repositories = [repositoryName]` with that repository's records", async () => {
    const repository = PLATFORM.repositories[0] as string;

    const { records } = await reactDoraCharts({ repositories: [repository], daysToPull: 30 });

    expect(new Set(records.map((record) => record.repository))).toEqual(new Set([repository]));
  });

  it('answers GET /metrics?service= for the same service', async () => {
    const service = services[0] as string;

    const answer = await send('GET', `/metrics?metric=deployment_frequency&interval=all&service=${service}`);

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([expect.objectContaining({ count: expect.any(Number) })]);
  });
});

describe('backstage-liatrio-dora-plugin 0.3 (`teamListEndpoint: teams?fields=name`) through the local server', () => {
  it('reads `teams_data.teams` as names and posts `fetchOptions.team = team` for the records of that team', async () => {
    const list = await send('GET', '/teams?fields=name', { headers: { 'Content-Type': 'application/json' } });
    const names = (list.json as { teams: unknown[] }).teams;
    expect(names).toEqual(TEAMS.map((team) => team.name).sort((a, b) => a.localeCompare(b, 'en')));

    const { records, kept } = await reactDoraCharts({ team: PLATFORM.name, daysToPull: 30 });

    expect(records.length).toBeGreaterThan(0);
    expect(kept).toHaveLength(records.length);
  });
});
