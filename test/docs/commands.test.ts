import { execFile } from 'node:child_process';
import { type LocalServer, startLocalServer } from '../helpers/local-server';
import {
  commandsOf,
  type DocCommand,
  docCommands,
  expectationOf,
  fragmentFacts,
  jsonFacts,
  ROOT,
  simpleCommands,
  untaggedCommandFences,
} from './shell-commands';

/**
 * Every shell command of README.md and docs/*.md runs, as written, in bash against the API started as
 * `npm start` starts it (sample data, authentication off; AUTH_PAGES against one with a token secret), and
 * answers what its page says:
 * - a 2xx, unless the comment after it starts with a status (`# 302 to ./`, `# 400 {...}`);
 * - when the comment shows JSON (`# {"status":"ok",...}`), the answer has every key it names and every
 *   string it shows, except those elided (`...`) or dated (they depend on the day).
 * `NAME=...` lines and `export` are run before the commands after them on the same page; `API` is the
 * test server's address and `localhost:3000` is rewritten to it. Commands that cannot run here are in
 * NOT_RUN with the reason; any other command fails this test until it runs or is listed.
 *
 * DOCS_API_URL runs the commands against an API already running there (to iterate on the docs quickly);
 * it must be a fresh `npm start`, as the write examples create incidents once, with the
 * GITHUB_WEBHOOK_SECRET of this shell. DOCS_AUTH_API_URL does the same for AUTH_PAGES, with the
 * AUTH_JWT_SECRET of this shell.
 */

/** Programs (their first words, or a pattern of the whole simple command) not run here, and why. */
const NOT_RUN: ReadonlyArray<{ words: string | RegExp; reason: string }> = [
  { words: 'npm ci', reason: 'installs the dependencies this test already runs with' },
  { words: 'npm start', reason: 'it is how the server these commands run against is started' },
  { words: 'npm test', reason: 'this test is part of it' },
  { words: /^npx jest( |$)/, reason: 'runs test suites, this one among them' },
  { words: 'npm run test:loki', reason: 'minutes against a real Loki; CI runs it (.ci/run, the workflow)' },
  { words: 'npm run test:browser', reason: 'minutes in a real browser; CI runs it (.ci/run, the workflow)' },
  { words: 'npm run format', reason: 'rewrites the working tree; npm test runs its check (biome check)' },
  {
    words: 'npm run rollups',
    reason: 'fills a store from Loki for dates of its own; test/rollups/fill-cli.test.ts runs each command',
  },
  { words: 'aws lambda invoke', reason: 'needs a deployed stack and AWS credentials' },
  {
    words: /^curl .*"?https:\/\/github\.com\/grafana\/loki\/releases\//,
    reason: 'downloads a Loki release; the CI workflow does it (.github/workflows/ci.yml)',
  },
  { words: 'sha256sum', reason: 'checks the downloaded Loki release' },
  { words: 'unzip', reason: 'unpacks the downloaded Loki release' },
  { words: 'aws ssm put-parameter', reason: 'writes to an AWS account' },
  {
    words: /^echo "AUTH_JWT_SECRET=/,
    reason: "writes the checkout's .env; the test gives its npm start and the commands a secret of their own",
  },
  { words: 'npx serverless deploy', reason: 'deploys to an AWS account' },
  { words: 'npx serverless remove', reason: 'deletes a stack of an AWS account' },
  {
    words: 'aws iam create-policy',
    reason: 'writes to an AWS account; test/template/deployer-policy.test.ts checks the policy it creates',
  },
  {
    words: 'npx serverless invoke local',
    reason: 'runs every function with its events/ sample in test/functions/invoke-local.test.ts',
  },
];

/** Programs run here (with their arguments as written). */
const RUN = new Set(['curl', 'head', 'export']);

type Plan = { kind: 'setup' } | { kind: 'run' } | { kind: 'listed'; reason: string } | { kind: 'unknown' };

function planOf(command: DocCommand): Plan {
  const parts = simpleCommands(command.text);
  for (const part of parts) {
    const line = part.words.join(' ');
    const listed = NOT_RUN.find((entry) =>
      typeof entry.words === 'string'
        ? line === entry.words || line.startsWith(`${entry.words} `)
        : entry.words.test(line),
    );
    if (listed) return { kind: 'listed', reason: listed.reason };
  }
  if (parts.every((part) => part.words.length === 0 || part.words[0] === 'export')) return { kind: 'setup' };
  if (parts.every((part) => RUN.has(part.words[0] ?? ''))) return { kind: 'run' };
  return { kind: 'unknown' };
}

const STATUS_MARK = '@@docs-curl-status:';

/**
 * docs/webhooks.md signs its test delivery with GITHUB_WEBHOOK_SECRET from the shell, as set for
 * `npm start` in .env: the server and the commands get the same one.
 */
const WEBHOOK_SECRET = 'docs-commands-webhook-secret-0123456789abcdef';

/**
 * docs/security.md shows tokens at work: its commands run against an npm start with AUTH_JWT_SECRET set,
 * and their shell has the same secret, as .env gives both npm start and scripts/mint-token.ts.
 */
const AUTH_PAGES = new Set(['docs/security.md']);
const AUTH_SECRET = 'docs-commands-jwt-secret-0123456789abcdef0123456789';

/** curl, reporting each status on stderr, so commands keep their pipes and options as written. */
const CURL_WRAPPER = `curl() { command curl -w '%{stderr}${STATUS_MARK}%{http_code}\\n' "$@"; }`;

function localize(text: string, baseUrl: string): string {
  return text.replace(/https?:\/\/(?:localhost|127\.0\.0\.1):3000/g, baseUrl);
}

interface Outcome {
  stdout: string;
  stderr: string;
  statuses: number[];
  exitCode: number;
  /** Set when bash was stopped at COMMAND_TIMEOUT_MS (a curl that never answered prints no status). */
  timedOut: boolean;
}

/**
 * A command's limit, and the test's above two of them so that a stopped command is tried again and then
 * reports its context. Generous: on a loaded 2-core CI machine a function's first request (serverless
 * offline loading its bundle) has taken over 30 s; these commands check what the docs say, not how fast.
 *
 * Tried again once: serverless offline (14.8) now and then never answers a function's first request when
 * it arrives while the scheduled functions start their worker threads (seen about once in three runs of
 * this suite, the function's "GET /services (λ: services)" line printed and nothing after it). That is the
 * local server, not the API: the retry is logged with what the server printed.
 */
const COMMAND_TIMEOUT_MS = 45_000;
const TEST_TIMEOUT_MS = 2 * COMMAND_TIMEOUT_MS + 15_000;

function runInBash(setup: string[], command: string, baseUrl: string, authSecret = ''): Promise<Outcome> {
  const script = [
    'set -e',
    ...setup.map((line) => localize(line, baseUrl)),
    'set +e',
    CURL_WRAPPER,
    localize(command, baseUrl),
  ].join('\n');
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          API: baseUrl,
          AUTH_JWT_SECRET: authSecret,
          TOKEN: '',
          GITHUB_WEBHOOK_SECRET: process.env.DOCS_API_URL
            ? (process.env.GITHUB_WEBHOOK_SECRET ?? '')
            : WEBHOOK_SECRET,
        },
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const statuses = [...stderr.matchAll(new RegExp(`${STATUS_MARK}(\\d+)`, 'g'))].map((m) =>
          Number(m[1]),
        );
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        const timedOut = error?.killed === true && error.signal === 'SIGTERM';
        resolve({ stdout, stderr, statuses, exitCode: code, timedOut });
      },
    );
  });
}

const commands = docCommands();
const plans = commands.map((command) => ({ command, plan: planOf(command) }));
const where = (command: DocCommand) => `${command.page}:${command.line}`;

describe('the shell examples of the docs', () => {
  it('are all run here or listed with the reason they are not', () => {
    const unknown = plans
      .filter((p) => p.plan.kind === 'unknown')
      .map((p) => `${where(p.command)}: ${p.command.text}`);

    expect(unknown).toEqual([]);
  });

  it('are in blocks tagged sh, so that they are found', () => {
    expect(untaggedCommandFences().map((fence) => `${fence.page}:${fence.line}`)).toEqual([]);
  });

  it('include a curl of every page that shows one, found by the extraction', () => {
    const pagesWithCurl = new Set(plans.filter((p) => p.plan.kind === 'run').map((p) => p.command.page));

    expect([...pagesWithCurl].sort()).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/getting-started.md',
        'docs/security.md',
        'docs/webhooks.md',
      ]),
    );
  });
});

describe('the commands of the docs, run against npm start', () => {
  const servers = new Map<string, LocalServer>();
  let baseUrl: string;
  let authBaseUrl: string;

  /** The address of DOCS_API_URL-like `variable`, or of an npm start of this test with `env`. */
  async function apiFor(variable: string, env: Record<string, string>): Promise<string> {
    const external = process.env[variable]?.trim();
    if (external) return external.replace(/\/+$/, '');
    const server = await startLocalServer(env);
    servers.set(server.baseUrl, server);
    return server.baseUrl;
  }

  beforeAll(async () => {
    [baseUrl, authBaseUrl] = await Promise.all([
      apiFor('DOCS_API_URL', { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }),
      apiFor('DOCS_AUTH_API_URL', { AUTH_JWT_SECRET: AUTH_SECRET }),
    ]);
  }, 150_000);
  afterAll(async () => Promise.all([...servers.values()].map((server) => server.kill())));

  const runnable = plans.filter((p) => p.plan.kind === 'run').map((p) => p.command);
  // Each page's commands in order: the write examples depend on the ones before them (open, then resolve).
  it.each(runnable.map((command) => [where(command), command.text.split('\n')[0], command] as const))(
    '%s %s',
    async (_where, _first, command) => {
      const setup = commands
        .filter((c) => c.page === command.page && c.line < command.line && planOf(c).kind === 'setup')
        .map((c) => c.text);
      const expected = expectationOf(command.comment);

      const auth = AUTH_PAGES.has(command.page);
      const run = () =>
        auth
          ? runInBash(
              setup,
              command.text,
              authBaseUrl,
              process.env.DOCS_AUTH_API_URL ? (process.env.AUTH_JWT_SECRET ?? '') : AUTH_SECRET,
            )
          : runInBash(setup, command.text, baseUrl);
      // What the server printed meanwhile tells a slow cold start from a hang.
      const serverOutput = () =>
        servers
          .get(auth ? authBaseUrl : baseUrl)
          ?.output()
          .slice(-6000) ?? '';

      let outcome = await run();
      if (outcome.timedOut) {
        console.warn(
          `${where(command)}: no answer within ${COMMAND_TIMEOUT_MS / 1000} s, trying once more; the server printed:\n${serverOutput()}`,
        );
        outcome = await run();
      }
      const stopped = outcome.timedOut
        ? `\nstopped twice after ${COMMAND_TIMEOUT_MS / 1000} s without an answer; the server printed:\n${serverOutput()}`
        : '';
      const context = `${where(command)}\n${command.text}${stopped}\nstdout: ${outcome.stdout.slice(0, 2000)}\nstderr: ${outcome.stderr.slice(0, 2000)}`;
      // jest's diff would cut the server's output short: a stopped command fails with all of it.
      if (outcome.timedOut) throw new Error(context);
      expect({ context, statuses: outcome.statuses.length > 0 }).toEqual({ context, statuses: true });
      for (const status of outcome.statuses) {
        if (expected.status === undefined)
          expect({ context, status: Math.floor(status / 100) }).toEqual({ context, status: 2 });
        else expect({ context, status }).toEqual({ context, status: expected.status });
      }
      if (expected.fragment !== undefined) {
        const answer = JSON.parse(outcome.stdout) as unknown;
        const facts = jsonFacts(answer);
        const shown = fragmentFacts(expected.fragment);
        expect({ context, array: Array.isArray(answer) }).toEqual({
          context,
          array: expected.fragment.startsWith('['),
        });
        expect({ context, keys: shown.keys.filter((key) => !facts.keys.has(key)) }).toEqual({
          context,
          keys: [],
        });
        expect({ context, strings: shown.strings.filter((s) => !facts.strings.has(s)) }).toEqual({
          context,
          strings: [],
        });
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe('reading commands out of a shell block', () => {
  const fence = (body: string) => ({ page: 'x.md', line: 10, tag: 'sh', body });

  it('joins continuations and quoted newlines and keeps the comments after a command', () => {
    const found = commandsOf(
      fence(
        [
          'curl -s $API/a   # {"a":1,',
          '#   "b":2}',
          '',
          "curl -s -X POST $API/b -d '{",
          '  "x": "#not a comment"}\'',
          'curl -s $API/c \\',
          '  -H "x: y"  # 404 gone',
        ].join('\n'),
      ),
    );

    expect(found.map(({ line, comment }) => ({ line, comment }))).toEqual([
      { line: 11, comment: '{"a":1, "b":2}' },
      { line: 14, comment: '' },
      { line: 16, comment: '404 gone' },
    ]);
    expect(found[1]?.text).toContain('"#not a comment"');
  });

  it('reads a status and a JSON fragment from the comment', () => {
    expect(expectationOf('302 to ./')).toEqual({ status: 302 });
    expect(expectationOf('400 {"status":400,"errors":[]} more')).toEqual({
      status: 400,
      fragment: '{"status":400,"errors":[]}',
    });
    expect(expectationOf('the services of a team (a 400 without GITHUB_ORG)')).toEqual({});
  });

  it('takes the keys and the literal strings of a fragment, not the elided or dated ones', () => {
    expect(
      fragmentFacts('{"status":"ok","time":"2026-11-28T04:29:32Z","sha":"08bc...","teams":["A","B", ...]}'),
    ).toEqual({
      keys: ['status', 'time', 'sha', 'teams'],
      strings: ['ok', 'A', 'B'],
    });
  });

  it('tells setup lines, listed programs and unknown ones apart', () => {
    const plan = (text: string) => planOf({ page: 'x.md', line: 1, text, comment: '' }).kind;

    expect(plan('STAGE=prod; REGION=eu-west-1')).toBe('setup');
    expect(plan('GITHUB_ORG=acme npx serverless deploy --stage prod')).toBe('listed');
    expect(plan('curl -s $API/ | head -c 60')).toBe('run');
    expect(plan('rm -rf /tmp/x')).toBe('unknown');
    expect(plan('curl -fsSLO "https://github.com/grafana/loki/releases/download/v3.7.6/x.zip"')).toBe(
      'listed',
    );
    expect(plan('curl -s "https://example.com/"')).toBe('run');
  });
});
