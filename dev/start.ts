/**
 * `npm start`: the API on http://localhost:$PORT (default 3000) through `serverless offline`, with
 * local stand-ins for whatever is not configured: generated events behind a Loki-speaking server when
 * LOKI_URL is unset, a GitHub stand-in serving the generator's teams when GITHUB_TOKEN or GITHUB_ORG is;
 * and webhook deliveries kept while Loki did not take them forwarded (see forwardWebhookBacklog).
 *
 * Messages go to the console as plain lines (not lib/logger JSON): this is a command talking to a
 * developer at a terminal, next to serverless-offline's own output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { parseConfig } from '../lib/config';
import { getLokiWriter } from '../lib/loki/push';
import type { Sample } from '../lib/sample/generator';
import { secretsFrom } from '../lib/secrets';
import { getDeliveryOutbox } from '../lib/webhooks/store-outbox';
import { startGitHubServer } from './github-server';
import { freePort, portIsFree } from './ports';
import { startSampleLoki } from './sample-loki';

const ROOT = path.resolve(__dirname, '..');
const LOCAL_GITHUB_TOKEN = 'local-stand-in-token';
/** How long serverless-offline gets to stop before it is killed. */
const STOP_GRACE_MS = 5_000;

/** Directories of this run only, removed when it stops. */
const temporaryDirs: string[] = [];

interface StandIn {
  close(): Promise<void>;
}

function say(message: string): void {
  console.log(`[npm start] ${message}`);
}

/**
 * An upstream's address for the terminal: scheme, host and port only. User info (a Loki password in the URL),
 * path and query (tenants, tokens) stay out of what is printed, as out of the API's answers (lib/errors.ts hostOf).
 */
function shownAddress(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return host === '' ? 'the configured address' : `${protocol}//${host}`;
  } catch {
    return 'the configured address (not a URL)';
  }
}

function unset(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/**
 * serverless-offline's Lambda invoke port: PORT + 2 (3002 beside the default 3000), or any free port when that
 * one is taken, so a second `PORT=3100 npm start` does not die on the first one's 3002.
 */
async function lambdaPortFor(httpPort: number): Promise<number> {
  const derived = httpPort + 2;
  if (derived <= 65_535 && (await portIsFree(derived))) return derived;
  return freePort();
}

/** The environment the API runs with: .env and the shell, then the stand-ins' addresses. */
async function prepareEnvironment(env: NodeJS.ProcessEnv, standIns: StandIn[]): Promise<NodeJS.ProcessEnv> {
  const prepared: NodeJS.ProcessEnv = { ...env };
  prepared.PORT = unset(env.PORT) ? '3000' : env.PORT;
  if (unset(env.OFFLINE_LAMBDA_PORT))
    prepared.OFFLINE_LAMBDA_PORT = String(await lambdaPortFor(Number(prepared.PORT)));
  const org = unset(env.GITHUB_ORG) ? 'acme' : (env.GITHUB_ORG as string);
  let sample: Sample | undefined;

  if (unset(env.LOKI_URL)) {
    const served = await startSampleLoki(env, org);
    standIns.push(served.loki);
    sample = served.sample;
    prepared.LOKI_URL = served.loki.url;
    say(`No LOKI_URL set: serving ${served.description}`);
  } else {
    say(`Using Loki at ${shownAddress(env.LOKI_URL as string)} (LOKI_URL)`);
  }

  if (unset(env.GITHUB_TOKEN) || unset(env.GITHUB_ORG)) {
    // With a real Loki the generated teams would name repositories it has never seen: serve none then.
    const teams = sample?.teams ?? [];
    const github = await startGitHubServer({ org, teams, token: LOCAL_GITHUB_TOKEN, host: '127.0.0.1' });
    standIns.push(github);
    Object.assign(prepared, {
      GITHUB_API_URL: github.url,
      GITHUB_ORG: org,
      GITHUB_TOKEN: LOCAL_GITHUB_TOKEN,
    });
    say(
      `GITHUB_TOKEN or GITHUB_ORG not set: serving ${teams.length} teams of organisation "${org}" from a local ` +
        `GitHub stand-in at ${github.url}`,
    );
  } else {
    say(
      `Using GitHub organisation "${env.GITHUB_ORG}" at ${shownAddress(env.GITHUB_API_URL || 'https://api.github.com')}`,
    );
  }

  if (unset(env.ROLLUPS_URL)) {
    // The generated sample is made anew around the time of each start: its closed days are kept for this
    // run only, in a directory removed when it stops. Days of a real Loki are kept from run to run.
    const dir = sample
      ? path.join(ROOT, '.data', `sample-rollups-${process.pid}`)
      : path.join(ROOT, '.data', 'rollups');
    if (sample) temporaryDirs.push(dir);
    prepared.ROLLUPS_URL = pathToFileURL(dir).href;
    say(`Closed days kept in ${path.relative(ROOT, dir)} (ROLLUPS_URL; off turns the store off)`);
  }
  if (unset(env.WEBHOOK_OUTBOX_URL))
    prepared.WEBHOOK_OUTBOX_URL = pathToFileURL(path.join(ROOT, '.data', 'webhook-outbox')).href;

  // serverless-esbuild deletes its work folder when it stops: a folder of this run's own keeps a second
  // `npm start` or a `serverless package` running meanwhile from losing its bundles.
  if (unset(env.ESBUILD_WORK_FOLDER)) prepared.ESBUILD_WORK_FOLDER = `.esbuild-start-${process.pid}`;

  // serverless.yml defaults to `jwt`; locally the API's own default applies: off unless a secret is set.
  if (unset(env.AUTH_MODE)) {
    prepared.AUTH_MODE = 'auto';
    say(
      unset(env.AUTH_JWT_SECRET)
        ? 'Authentication off (set AUTH_JWT_SECRET or AUTH_MODE to change that)'
        : 'Bearer tokens signed with AUTH_JWT_SECRET required',
    );
  }
  say(webhookRecipe(prepared.PORT as string, !unset(env.GITHUB_WEBHOOK_SECRET)));
  return prepared;
}

/**
 * One line for the terminal: with a secret, a command that sends a signed `ping` to the receiver (the secret
 * is read from the shell, never printed); without, how to set one.
 */
function webhookRecipe(port: string, secretSet: boolean): string {
  if (!secretSet) {
    return (
      'Webhooks: GITHUB_WEBHOOK_SECRET not set, so POST /webhooks/github refuses every delivery ' +
      '(put GITHUB_WEBHOOK_SECRET=<long random text> in .env; see docs/webhooks.md)'
    );
  }
  const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
  return (
    'Webhooks: send a signed test delivery (with GITHUB_WEBHOOK_SECRET exported in your shell): ' +
    `body='${body}'; curl -sS -X POST http://localhost:${port}/webhooks/github ` +
    `-H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' -H "X-GitHub-Delivery: local-$(date +%s)" ` +
    `-H "X-Hub-Signature-256: sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "\${GITHUB_WEBHOOK_SECRET:?export it first}" | sed 's/^.* //')" ` +
    `-d "$body"`
  );
}

/**
 * Webhook deliveries kept while Loki did not take them: serverless offline runs the webhooksReplay function
 * on its schedule (every minute) as AWS does; this forwards what an earlier run left at once, so a restart
 * does not wait for the first minute.
 */
function forwardWebhookBacklog(env: NodeJS.ProcessEnv): StandIn {
  const config = parseConfig(env);
  const outbox = getDeliveryOutbox(config);
  say(
    `Webhook deliveries Loki does not take wait in ${outbox.store.description}; the webhooksReplay function ` +
      'forwards them every minute (npm run webhooks -- status)',
  );
  const writer = getLokiWriter(config, secretsFrom({ LOKI_TOKEN: env.LOKI_TOKEN }));
  const forwarding = outbox
    .forward(writer, { concurrency: config.loki.concurrency })
    .then(async (result) => {
      if (result.forwarded + result.failed + result.deadLettered === 0) return;
      const backlog = await outbox.backlog();
      say(
        `Webhook outbox: forwarded ${result.forwarded}, failed ${result.failed}, dead-lettered ` +
          `${result.deadLettered}; ${backlog.pending} pending, ${backlog.deadLettered} dead letters`,
      );
    })
    .catch((error: unknown) =>
      say(`Webhook outbox: ${error instanceof Error ? error.message : String(error)}`),
    );
  return { close: () => forwarding };
}

function startApi(env: NodeJS.ProcessEnv): ChildProcess {
  const serverless = path.join(ROOT, 'node_modules', '.bin', 'serverless');
  // Its own process group, so stopping it also stops what it started (esbuild, workers): no orphans.
  // --localEnvironment: secrets are deliberately not in serverless.yml's environment; locally the functions
  // read them (GITHUB_TOKEN, LOKI_TOKEN, AUTH_JWT_SECRET) from this environment, as lib/secrets.ts expects.
  return spawn(serverless, ['offline', '--stage', 'local', '--localEnvironment', ...process.argv.slice(2)], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
    detached: true,
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function main(): Promise<void> {
  const envFile = path.join(ROOT, '.env');
  if (existsSync(envFile)) {
    loadDotenv({ path: envFile, quiet: true });
    say('Read settings from .env');
  }

  // Before anything is generated or started: serverless offline would only fail at the end, with a stack trace.
  const port = unset(process.env.PORT) ? '3000' : (process.env.PORT as string);
  if (!(await portIsFree(Number(port)))) {
    console.error(
      `[npm start] Port ${port} is taken (another npm start?): stop what listens there, or choose another ` +
        `port, e.g. PORT=${Number(port) === 3100 ? 3200 : 3100} npm start (or PORT in .env)`,
    );
    process.exit(1);
  }

  const standIns: StandIn[] = [];
  let closing: Promise<void> | undefined;
  const closeStandIns = () => {
    closing ??= Promise.allSettled(standIns.map((standIn) => standIn.close())).then(() => undefined);
    return closing;
  };

  let env: NodeJS.ProcessEnv;
  try {
    env = await prepareEnvironment(process.env, standIns);
  } catch (error) {
    await closeStandIns();
    throw error;
  }

  const api = startApi(env);
  try {
    standIns.push(forwardWebhookBacklog(env));
  } catch (error) {
    say(
      `Webhook deliveries will not be forwarded: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  say(`Starting the API on http://localhost:${env.PORT} (serverless offline --stage local)`);
  say(`Dashboard: http://localhost:${env.PORT}/ (the page of GET /, once the API is ready)`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    signalGroup(api, 'SIGTERM');
    setTimeout(() => signalGroup(api, 'SIGKILL'), STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  api.on('error', async (error) => {
    console.error(`[npm start] Could not start serverless offline: ${error.message}`);
    await closeStandIns();
    process.exit(1);
  });
  api.on('exit', async (code, signal) => {
    // Whatever serverless left in its group goes with it.
    if (api.pid !== undefined) {
      try {
        process.kill(-api.pid, 'SIGKILL');
      } catch {
        // Nothing left.
      }
    }
    if (unset(process.env.ESBUILD_WORK_FOLDER)) {
      rmSync(path.join(ROOT, env.ESBUILD_WORK_FOLDER as string), { recursive: true, force: true });
    }
    for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
    await closeStandIns();
    process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0)));
  });
}

main().catch((error: unknown) => {
  console.error(`[npm start] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
