/**
 * `npm run rollups -- <command>`: fills and inspects the store of closed days (ROLLUPS_URL) with the
 * settings `npm start` reads (.env, then the environment; without LOKI_URL the same generated sample).
 *
 *   backfill --from YYYY-MM-DD [--to YYYY-MM-DD] [--concurrency N]   days not yet stored
 *   rebuild  --from YYYY-MM-DD --to YYYY-MM-DD [--concurrency N]     read again and overwrite
 *   status                                                           days stored, by month and format
 *
 * Exit status: 0 done, 1 Loki or the store failed, 2 a wrong command line or setting, 130 stopped by
 * Ctrl-C (what was stored stays; the same command continues).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { startSampleLoki } from '../dev/sample-loki';
import { ConfigError, parseConfig } from '../lib/config';
import { LokiError } from '../lib/errors';
import { logger } from '../lib/logger';
import { FillError, type FillReport, fill, lastClosedDay, ORGANISATION, parseDay } from '../lib/rollups/fill';
import { fillDependencies, openRollupStore, selectionKeyFor } from '../lib/rollups/fill-setup';
import { formatStatus, storeStatus } from '../lib/rollups/status';
import type { RollupStore } from '../lib/rollups/store';
import { secretsFrom } from '../lib/secrets';
import { isoDay } from '../lib/time';
import { progressView } from './rollups/progress';

const ROOT = path.resolve(__dirname, '..');

class UsageError extends Error {}

function unset(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

function say(message: string): void {
  process.stderr.write(`[rollups] ${message}\n`);
}

const USAGE = `Usage: npm run rollups -- backfill --from YYYY-MM-DD [--to YYYY-MM-DD] [--concurrency N]
       npm run rollups -- rebuild --from YYYY-MM-DD --to YYYY-MM-DD [--concurrency N]
       npm run rollups -- status`;

interface Command {
  name: 'backfill' | 'rebuild' | 'status';
  from?: number;
  to?: number;
  /** --concurrency; else ROLLUPS_FILL_CONCURRENCY. */
  concurrency?: number;
}

function parseCommand(argv: string[]): Command {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: { from: { type: 'string' }, to: { type: 'string' }, concurrency: { type: 'string' } },
    });
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [name, ...extra] = parsed.positionals;
  if (name !== 'backfill' && name !== 'rebuild' && name !== 'status')
    throw new UsageError(name === undefined ? 'no command given' : `unknown command ${JSON.stringify(name)}`);
  if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra.join(' '))}`);
  const { values } = parsed;
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32))
    throw new UsageError(`--concurrency must be a whole number from 1 to 32, not ${values.concurrency}`);
  const day = (text: string | undefined, option: string) => {
    if (text === undefined) return undefined;
    try {
      return parseDay(text);
    } catch (error) {
      throw new UsageError(`--${option}: ${(error as Error).message}`);
    }
  };
  const command: Command = { name, ...(concurrency === undefined ? {} : { concurrency }) };
  const from = day(values.from, 'from');
  const to = day(values.to, 'to');
  if (from !== undefined) command.from = from;
  if (to !== undefined) command.to = to;
  if (name !== 'status' && from === undefined) throw new UsageError(`${name} needs --from YYYY-MM-DD`);
  if (name === 'rebuild' && to === undefined) throw new UsageError('rebuild needs --to YYYY-MM-DD');
  if (from !== undefined && to !== undefined && to < from) throw new UsageError('--to is before --from');
  return command;
}

async function main(): Promise<number> {
  const envFile = path.join(ROOT, '.env');
  if (existsSync(envFile)) loadDotenv({ path: envFile, quiet: true });
  // The reader logs a line per request at INFO: a backfill of a year would bury its own progress.
  if (unset(process.env.POWERTOOLS_LOG_LEVEL)) logger.setLogLevel('WARN');
  let command: Command;
  let rollups: RollupStore | undefined;
  try {
    command = parseCommand(process.argv.slice(2));
    if (unset(process.env.ROLLUPS_URL) && !unset(process.env.LOKI_URL)) {
      // Where `npm start` keeps a real Loki's closed days when ROLLUPS_URL is unset.
      process.env.ROLLUPS_URL = pathToFileURL(path.join(ROOT, '.data', 'rollups')).href;
      say(`ROLLUPS_URL unset: using ${path.join('.data', 'rollups')}, as npm start does`);
    }
    rollups = openRollupStore(parseConfig(process.env));
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      say(error.message);
      say(USAGE);
      return 2;
    }
    throw error;
  }
  if (rollups === undefined) {
    say(
      unset(process.env.ROLLUPS_URL)
        ? "Neither LOKI_URL nor ROLLUPS_URL is set: npm start keeps the generated sample's closed days for one run " +
            'only, so there is no store to fill; set ROLLUPS_URL=file:///absolute/dir (or s3://bucket/prefix) to fill one from the sample'
        : 'ROLLUPS_URL is off: there is no store to fill (set ROLLUPS_URL=file:///absolute/dir or s3://bucket/prefix)',
    );
    return 2;
  }

  if (command.name === 'status') {
    const status = await storeStatus(rollups.objects);
    say(`Store at ${rollups.description}, current format v${status.currentFormat}`);
    const config = parseConfig(process.env);
    const names = new Map([
      [
        selectionKeyFor(config, ORGANISATION.filter),
        `organisation (service namespace "${config.serviceNamespace}")`,
      ],
    ]);
    for (const line of formatStatus(status, names)) process.stdout.write(`${line}\n`);
    return 0;
  }

  const standIns: Array<{ close(): Promise<void> }> = [];
  const env = { ...process.env };
  if (unset(env.LOKI_URL)) {
    const served = await startSampleLoki(env, env.GITHUB_ORG || 'acme');
    standIns.push(served.loki);
    env.LOKI_URL = served.loki.url;
    say(`No LOKI_URL set: reading ${served.description}`);
  }
  try {
    const config = parseConfig(env);
    const secrets = secretsFrom({ LOKI_TOKEN: env.LOKI_TOKEN });
    const deps = fillDependencies(config, secrets, rollups);
    const concurrency = command.concurrency ?? config.rollupsFill.concurrency;
    const from = command.from ?? 0;
    const to = Math.min(command.to ?? Number.POSITIVE_INFINITY, lastClosedDay(deps.closedBefore));
    say(
      `${command.name === 'rebuild' ? 'Rebuilding' : 'Filling'} closed days ${isoDay(from)} to ${isoDay(to)} ` +
        `of service namespace "${config.serviceNamespace}" into ${rollups.description}, ${concurrency} day(s) at once`,
    );
    const controller = new AbortController();
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      controller.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const view = progressView(process.stderr);
    let report: FillReport;
    try {
      report = await fill(deps, {
        from,
        to,
        selections: [ORGANISATION],
        concurrency,
        rebuild: command.name === 'rebuild',
        signal: controller.signal,
        onProgress: (progress) => view.update(progress),
      });
    } catch (error) {
      view.end();
      if (interrupted) {
        say('Stopped. The days stored so far stay; run the same command again to continue.');
        return 130;
      }
      throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    view.end();
    const seconds = (Date.now() - report.startedAt) / 1000;
    say(
      `Done: ${report.filled} day(s) read from Loki and stored, ${report.present} already stored, ` +
        `${report.events} events, ${report.compactedMonths} month(s) compacted, ${seconds.toFixed(1)} s` +
        (report.filled > 0 ? ` (${(report.filled / Math.max(seconds, 0.001)).toFixed(2)} days/s)` : ''),
    );
    return 0;
  } finally {
    await Promise.allSettled(standIns.map((standIn) => standIn.close()));
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof LokiError) return `Loki failed: ${error.message}`;
  if (error instanceof FillError) return `The store failed: ${error.message}`;
  if (error instanceof ConfigError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `The store failed: ${code} ${(error as Error).message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(describeFailure(error));
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
