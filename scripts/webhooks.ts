/**
 * The webhook outbox for operators: `npm run webhooks -- status | replay | requeue`, with the settings of the
 * API (WEBHOOK_OUTBOX_URL, LOKI_URL, LOKI_TOKEN, ... from the environment or `.env`).
 *
 * - `status`: deliveries waiting for Loki, dead letters, how long the oldest has waited.
 * - `replay`: forwards what waits now, as the schedule does every minute; exits 1 when Loki failed.
 * - `requeue`: puts the dead letters back in the queue (after fixing what Loki refused them for).
 *
 * Plain lines for a terminal, not lib/logger JSON.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { parseConfig } from '../lib/config';
import { logger } from '../lib/logger';
import { secretsFrom } from '../lib/secrets';
import { replayWebhookBacklog } from '../lib/webhooks/replay';
import { type Backlog, getDeliveryOutbox } from '../lib/webhooks/store-outbox';

const COMMANDS = ['status', 'replay', 'requeue'] as const;
type Command = (typeof COMMANDS)[number];

function describeBacklog(backlog: Backlog): string {
  const age =
    backlog.oldestPendingAgeSeconds === null ? '' : `, oldest waiting ${backlog.oldestPendingAgeSeconds} s`;
  return `${backlog.pending} pending${age}; ${backlog.deadLettered} dead letters`;
}

async function main(): Promise<number> {
  const command = process.argv[2] as Command | undefined;
  if (command === undefined || !COMMANDS.includes(command)) {
    process.stderr.write(`usage: npm run webhooks -- ${COMMANDS.join('|')}\n`);
    return 2;
  }
  const envFile = path.resolve(__dirname, '..', '.env');
  if (existsSync(envFile)) loadDotenv({ path: envFile, quiet: true });
  // The lines below say what happened; the log adds only warnings and errors (which delivery Loki refused).
  if (process.env.POWERTOOLS_LOG_LEVEL === undefined) logger.setLogLevel('WARN');
  const config = parseConfig(process.env);
  const outbox = getDeliveryOutbox(config);
  process.stdout.write(`outbox: ${outbox.store.description}\n`);

  if (command === 'status') {
    process.stdout.write(`${describeBacklog(await outbox.backlog())}\n`);
    return 0;
  }
  if (command === 'requeue') {
    const requeued = await outbox.requeue();
    process.stdout.write(
      `${requeued} dead letters back in the queue; ${describeBacklog(await outbox.backlog())}\n`,
    );
    return 0;
  }
  if (config.loki.url === undefined) {
    process.stderr.write('Set LOKI_URL: replay forwards the backlog to that Loki\n');
    return 1;
  }
  const result = await replayWebhookBacklog(config, secretsFrom({ LOKI_TOKEN: process.env.LOKI_TOKEN }));
  process.stdout.write(
    `forwarded ${result.forwarded}, failed ${result.failed}, dead-lettered ${result.deadLettered}, ` +
      `not tried ${result.skipped}; ${describeBacklog(result.backlog)}\n`,
  );
  return result.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
