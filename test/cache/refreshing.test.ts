import { createRefreshingCache } from '../../lib/cache/refreshing';
import { controllableClock, gate } from '../helpers/control';

const TTL_MS = 60_000;

/** A load whose answers the test scripts (a value or an error per call) and can hold until released. */
function scriptedLoad<T>(...answers: Array<T | Error>) {
  let calls = 0;
  const { pass, hold, release } = gate();
  return {
    load: async (): Promise<T> => {
      calls += 1;
      const answer = answers[Math.min(calls, answers.length) - 1];
      await pass();
      if (answer instanceof Error) throw answer;
      return answer as T;
    },
    calls: () => calls,
    hold,
    release,
  };
}

function cacheOf<T>(script: { load: () => Promise<T> }, clock = controllableClock()) {
  return createRefreshingCache({ load: script.load, ttlMs: TTL_MS, metric: 'services', now: clock.now });
}

describe('refreshing cache', () => {
  it('loads on first use, serves the value from memory until the TTL, then loads again', async () => {
    const clock = controllableClock();
    const script = scriptedLoad(['a'], ['a', 'b']);
    const cache = cacheOf(script, clock);

    const first = await cache.get();
    clock.advance(TTL_MS - 1);
    const second = await cache.get();
    clock.advance(1);
    const third = await cache.get();

    expect([first, second, third].map((answer) => [answer.cache, answer.value])).toEqual([
      ['miss', ['a']],
      ['hit', ['a']],
      ['miss', ['a', 'b']],
    ]);
    expect([second.loadedAt, third.loadedAt]).toEqual([first.loadedAt, clock.now()]);
    expect(script.calls()).toBe(2);
  });

  it('shares one load between concurrent callers, refreshes included', async () => {
    const script = scriptedLoad(['a']);
    const cache = cacheOf(script);
    script.hold();

    const callers = [
      ...Array.from({ length: 10 }, () => cache.get()),
      ...Array.from({ length: 10 }, () => cache.get({ refresh: true })),
    ];
    script.release();
    const answers = await Promise.all(callers);

    expect(script.calls()).toBe(1);
    expect(new Set(answers.map((answer) => answer.value)).size).toBe(1);
    expect(new Set(answers.map((answer) => answer.cache))).toEqual(new Set(['miss']));
  });

  it('loads again on refresh even while the value is fresh', async () => {
    const script = scriptedLoad('old', 'new');
    const cache = cacheOf(script);
    await cache.get();

    const refreshed = await cache.get({ refresh: true });

    expect([refreshed.cache, refreshed.value]).toEqual(['miss', 'new']);
    expect(script.calls()).toBe(2);
  });

  it('serves the last value marked stale, with its age and the error, when a load fails', async () => {
    const clock = controllableClock();
    const down = new Error('upstream down');
    const script = scriptedLoad('kept', down);
    const cache = cacheOf(script, clock);
    const loaded = await cache.get();
    clock.advance(TTL_MS);

    const stale = await cache.get();

    expect(stale).toEqual({ value: 'kept', loadedAt: loaded.loadedAt, cache: 'stale', error: down });
  });

  it('throws the error of a failed load when nothing was ever loaded', async () => {
    const down = new Error('upstream down');
    const cache = cacheOf(scriptedLoad(down));

    await expect(cache.get()).rejects.toBe(down);
  });

  it('does not keep a failure: the next call loads again', async () => {
    const clock = controllableClock();
    const script = scriptedLoad<string>(new Error('first try fails'), 'loaded', new Error('down'), 'back');
    const cache = cacheOf(script, clock);
    await expect(cache.get()).rejects.toThrow('first try fails');

    const afterFailure = await cache.get();
    clock.advance(TTL_MS);
    const stale = await cache.get();
    const afterStale = await cache.get();

    expect([afterFailure, stale, afterStale].map((answer) => [answer.cache, answer.value])).toEqual([
      ['miss', 'loaded'],
      ['stale', 'loaded'],
      ['miss', 'back'],
    ]);
    expect(script.calls()).toBe(4);
  });

  it('shares one failure between concurrent callers and lets the next call try again', async () => {
    const script = scriptedLoad<string>(new Error('down'), 'loaded');
    const cache = cacheOf(script);
    script.hold();

    const callers = Array.from({ length: 5 }, () => cache.get().catch((error: Error) => error.message));
    script.release();
    const outcomes = await Promise.all(callers);
    const next = await cache.get();

    expect(outcomes).toEqual(Array(5).fill('down'));
    expect([next.cache, next.value, script.calls()]).toEqual(['miss', 'loaded', 2]);
  });
});
