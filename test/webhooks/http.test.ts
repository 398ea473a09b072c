import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import { type LocalServer, startLocalServer } from '../helpers/local-server';
import { wholeSecondsNow } from '../helpers/records';
import {
  deliveryHeaders,
  deploymentStatus,
  example,
  incidentIssue,
  mergedPullRequest,
  TEST_WEBHOOK_SECRET,
} from './deliveries';

/**
 * POST /webhooks/github over HTTP on the running local server (`npm start`: serverless offline, the Loki
 * imitation, the GitHub stand-in), with GitHub's example payloads signed as GitHub signs them.
 */
jest.setTimeout(120_000);

const run = promisify(execFile);
const MINUTE = 60_000;
const where = { owner: 'acme', repository: 'webhook-http' };
/** Text only the payloads carry: none of it may reach a log line. */
const PAYLOAD_MARKER = 'payload-text-that-must-stay-out-of-logs';

let server: LocalServer;
let sequence = 0;

beforeAll(async () => {
  server = await startLocalServer({
    GITHUB_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
});
afterAll(async () => server?.kill());

interface Answer {
  status: number;
  contentType: string;
  json: Record<string, unknown>;
}

function post(body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.baseUrl}/webhooks/github`,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text);
          } catch {
            json = { text };
          }
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type']),
            json,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function deliver(event: string, payload: unknown, delivery = `http-${++sequence}`): Promise<Answer> {
  const body = JSON.stringify(payload);
  return post(body, deliveryHeaders(event, delivery, body));
}

describe('POST /webhooks/github over HTTP', () => {
  it('answers a signed ping with 200', async () => {
    const response = await deliver('ping', example('ping'));

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'ok', event: 'ping' });
  });

  it('sends a signed ping with the one-line recipe npm start prints', async () => {
    const recipe =
      /Webhooks: send a signed test delivery \(with GITHUB_WEBHOOK_SECRET exported in your shell\): (.*)$/m.exec(
        server.output(),
      )?.[1];

    const { stdout } = await run('bash', ['-c', recipe ?? 'false'], {
      env: { ...process.env, GITHUB_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
    });

    expect(JSON.parse(stdout)).toMatchObject({ status: 'ok', event: 'ping' });
  });

  it('writes the example deployment_status, merged pull_request and incident issues deliveries', async () => {
    const at = wholeSecondsNow() - 10 * MINUTE;
    const sha = '9'.repeat(40);

    const answers = [
      await deliver(
        'pull_request',
        mergedPullRequest(where, { sha, mergedAt: at - MINUTE, title: PAYLOAD_MARKER }),
      ),
      await deliver(
        'deployment_status',
        deploymentStatus(where, { sha, state: 'success', environment: 'production', createdAt: at }),
      ),
      await deliver('issues', incidentIssue(where, { action: 'opened', number: 41, createdAt: at + MINUTE })),
      await deliver(
        'issues',
        incidentIssue(where, {
          action: 'closed',
          number: 41,
          createdAt: at + MINUTE,
          closedAt: at + 5 * MINUTE,
        }),
      ),
    ];

    expect(
      answers.map((answer) => [answer.status, answer.json.status, answer.json.event, answer.json.action]),
    ).toEqual([
      [200, 'written', 'pull_request', 'closed'],
      [200, 'written', 'deployment_status', 'created'],
      [200, 'written', 'issues', 'opened'],
      [200, 'written', 'issues', 'closed'],
    ]);
  });

  it('counts a redelivery (the same X-GitHub-Delivery) once', async () => {
    const payload = deploymentStatus(where, {
      sha: '8'.repeat(40),
      state: 'failure',
      environment: 'production',
      createdAt: wholeSecondsNow() - 3 * MINUTE,
    });

    const first = await deliver('deployment_status', payload, 'redelivered-1');
    const again = await deliver('deployment_status', payload, 'redelivered-1');

    expect([first.json.status, again.json.status]).toEqual(['written', 'duplicate']);
  });

  it.each([
    ['push', example('push'), /push events are not recorded/],
    ['pull_request', example('pull_request', 'opened'), /only merged pull requests/],
    ['pull_request', example('pull_request', 'closed'), /closed without merging/],
    ['issues', example('issues', 'opened'), /no incident label/],
    ['issues', example('issues', 'edited'), /does not start, end or change an incident/],
  ])('answers 202 with the reason for a %s delivery it does not record', async (event, payload, reason) => {
    const response = await deliver(event, payload);

    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ status: 'ignored', event, reason: expect.stringMatching(reason) });
  });

  describe('refuses with 401, saying nothing about the secret', () => {
    const body = JSON.stringify(example('ping'));
    const signed = deliveryHeaders('ping', 'sig-1', body);
    const { 'X-Hub-Signature-256': _signature, ...unsigned } = signed;

    it.each([
      ['no signature', body, unsigned],
      [
        'only the sha1 signature (X-Hub-Signature)',
        body,
        { ...unsigned, 'X-Hub-Signature': 'sha1=0123456789abcdef0123456789abcdef01234567' },
      ],
      [
        'a signature made with another secret',
        body,
        deliveryHeaders('ping', 'sig-1', body, 'another-secret'),
      ],
      ['a tampered body', body.replace('"zen":"', '"zen":"!'), signed],
      [
        'a signature in upper-case hex',
        body,
        {
          ...signed,
          'X-Hub-Signature-256': signed['X-Hub-Signature-256'].toUpperCase().replace('SHA256=', 'sha256='),
        },
      ],
    ])('%s', async (_case, sent, headers) => {
      const response = await post(sent, headers);

      expect(response.status).toBe(401);
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      expect(response.json.detail).toBe(
        "The delivery is not signed with this receiver's secret (X-Hub-Signature-256)",
      );
      expect(JSON.stringify(response.json)).not.toContain(TEST_WEBHOOK_SECRET.slice(0, 8));
    });
  });

  it('refuses a signed form-encoded delivery with 415 and says to choose application/json', async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(example('ping')))}`;
    const headers = {
      ...deliveryHeaders('ping', 'form-1', body),
      'Content-Type': 'application/x-www-form-urlencoded',
    };

    const response = await post(body, headers);

    expect(response.status).toBe(415);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.json.detail).toMatch(/application\/json/);
  });

  it.each([
    ['a body that is not JSON', '{"zen": ', {}, /not valid JSON/],
    ['no X-GitHub-Event', '{"zen":"x"}', { 'X-GitHub-Event': '' }, /X-GitHub-Event/],
    ['no X-GitHub-Delivery', '{"zen":"x"}', { 'X-GitHub-Delivery': '' }, /X-GitHub-Delivery/],
    [
      'a deployment_status without its deployment',
      '{"action":"created","repository":{"name":"a","owner":{"login":"acme"}}}',
      { 'X-GitHub-Event': 'deployment_status' },
      /lacks what the receiver records/,
    ],
  ])('refuses %s with 400 problem+json', async (_case, body, override, detail) => {
    const headers: Record<string, string> = { ...deliveryHeaders('ping', 'bad-1', body) };
    for (const [name, value] of Object.entries(override)) {
      if (value === '') delete headers[name];
      else headers[name] = value;
    }

    const response = await post(body, headers);

    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.json.detail).toMatch(detail);
  });

  it('refuses a body above 1 MiB with 413 before verifying it', async () => {
    const body = JSON.stringify({ zen: 'x'.repeat(1_048_577) });

    const response = await post(body, deliveryHeaders('ping', 'big-1', body));

    expect(response.status).toBe(413);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
  });

  it('logs each delivery with event, action, delivery id, repository and outcome, never a payload or header value', async () => {
    const logged = server
      .output()
      .split('\n')
      .filter((line) => line.includes('"message":"webhook delivery"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
    const everything = server.output();

    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: 'pull_request',
          action: 'closed',
          repository: 'acme/webhook-http',
          outcome: 'written',
        }),
        expect.objectContaining({
          event: 'deployment_status',
          delivery: 'redelivered-1',
          outcome: 'duplicate',
        }),
        expect.objectContaining({ event: 'push', outcome: 'ignored' }),
        expect.objectContaining({ outcome: 'unauthorized', statusCode: 401 }),
      ]),
    );
    expect(everything).not.toContain(PAYLOAD_MARKER);
    expect(everything).not.toContain(TEST_WEBHOOK_SECRET);
    expect(everything).not.toMatch(/sha256=[0-9a-f]{64}/);
    expect(everything).not.toContain('GitHub-Hookshot');
  });
});
