import type { FillProgress } from '../../lib/rollups/fill';

/**
 * The fill's progress for a person watching: on a terminal one line redrawn in place (a bar, days done of
 * total, events, days per second, time left), elsewhere (CI logs, a pipe) a plain line every few seconds.
 */

const BAR_WIDTH = 24;
const PLAIN_EVERY_MS = 5_000;

export function progressLine(progress: FillProgress, now: number): string {
  const done = progress.present + progress.filled;
  const share = progress.total === 0 ? 1 : done / progress.total;
  const filledWidth = Math.round(share * BAR_WIDTH);
  const bar = `${'#'.repeat(filledWidth)}${'-'.repeat(BAR_WIDTH - filledWidth)}`;
  const seconds = Math.max(0.001, (now - progress.startedAt) / 1000);
  const rate = progress.filled / seconds;
  const left = progress.total - done;
  const eta = left === 0 ? '0s' : rate > 0 ? duration(left / rate) : '?';
  return (
    `[${bar}] ${done}/${progress.total} days (${progress.present} already stored) ` +
    `${progress.events.toLocaleString('en')} events ${rate.toFixed(2)} days/s ${eta} left`
  );
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export interface ProgressView {
  update(progress: FillProgress): void;
  /** Ends the redrawn line, so what follows starts on a line of its own. */
  end(): void;
}

export function progressView(stream: NodeJS.WriteStream): ProgressView {
  const tty = stream.isTTY === true;
  let last: FillProgress | undefined;
  let printedAt = 0;
  let drawn = false;
  return {
    update(progress) {
      last = progress;
      const now = Date.now();
      if (tty) {
        const line = progressLine(progress, now).slice(0, Math.max(20, (stream.columns ?? 120) - 1));
        stream.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (now - printedAt >= PLAIN_EVERY_MS) {
        printedAt = now;
        stream.write(`${progressLine(progress, now)}\n`);
      }
    },
    end() {
      if (tty && drawn) stream.write('\n');
      else if (!tty && last !== undefined) stream.write(`${progressLine(last, Date.now())}\n`);
    },
  };
}
