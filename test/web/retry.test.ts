import { BadRequestError, GitHubError, LokiError } from '../../lib/errors';
import { errorToResponse } from '../../lib/http/errors';
import { DEADLINE_MESSAGE, RESUMABLE_DEADLINE_MESSAGE } from '../../lib/loki/deadline';
import {
  continueAfterLokiDeadline,
  type FailedAnswer,
  FILL_STALLS_ALLOWED,
  isLokiDeadline,
  READ_ATTEMPTS,
  type Retry,
  storeFilling,
} from '../../web/src/retry';

/** The dashboard's rule for asking a read again (web/src/retry.ts), on the API's own problem documents. */

/** What the page reads from an answer of the API for this error: its status and problem `detail`. */
function answerTo(error: unknown): FailedAnswer {
  const response = errorToResponse(error, 'request-id');
  return { status: response.statusCode, detail: (JSON.parse(response.body) as { detail: string }).detail };
}

const LOKI_DEADLINE = answerTo(new LokiError(RESUMABLE_DEADLINE_MESSAGE, { statusCode: 504 }));

/** A read that fails with `failures` in turn, then answers; counts its calls. */
function readFailing(failures: unknown[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    run: async (): Promise<string> => {
      calls += 1;
      const failure = failures[calls - 1];
      if (failure !== undefined) throw failure;
      return 'answer';
    },
  };
}

describe('which answers the page asks again', () => {
  it('asks again after the 504 the API sends when Loki did not answer before the deadline', () => {
    expect(isLokiDeadline(LOKI_DEADLINE)).toBe(true);
    expect(isLokiDeadline(answerTo(new LokiError(DEADLINE_MESSAGE, { statusCode: 504 })))).toBe(true);
  });

  it.each([
    ['a 400', answerTo(new BadRequestError('end must be after start'))],
    ['a 502 naming Loki', answerTo(new LokiError('Loki answered HTTP 503 after 3 attempts'))],
    [
      'the 504 of a Loki request without a deadline',
      answerTo(new LokiError('Loki did not answer within 200 ms', { statusCode: 504 })),
    ],
    ['a 504 naming GitHub', answerTo(new GitHubError('GitHub did not answer in time', { statusCode: 504 }))],
    ["a gateway's own 504 (its `message`, no problem JSON)", { status: 504, detail: 'Service Unavailable' }],
    ['no answer at all', { status: 0, detail: 'The API did not answer GET /metrics' }],
  ])('does not ask again after %s', (_name, answer) => {
    expect(isLokiDeadline(answer)).toBe(false);
  });
});

describe('continueAfterLokiDeadline', () => {
  it('answers with a later attempt after Loki deadline 504s, telling each new attempt', async () => {
    const read = readFailing([LOKI_DEADLINE, LOKI_DEADLINE]);
    const retries: Retry[] = [];

    const value = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: (retry) => retries.push(retry),
    });

    expect(value).toBe('answer');
    expect(retries).toEqual([
      { attempt: 2, attempts: 4 },
      { attempt: 3, attempts: 4 },
    ]);
  });

  it('fails with the last 504 after four attempts in all', async () => {
    const read = readFailing(Array.from({ length: 10 }, () => LOKI_DEADLINE));

    const failure = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: () => {},
    }).catch((error: unknown) => error);

    expect(failure).toBe(LOKI_DEADLINE);
    expect(read.calls).toBe(READ_ATTEMPTS);
    expect(READ_ATTEMPTS).toBe(4);
  });

  it('fails at once with any other error', async () => {
    const badGateway = answerTo(new LokiError('Loki answered HTTP 503 after 3 attempts'));
    const read = readFailing([badGateway]);

    const failure = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: () => {},
    }).catch((error: unknown) => error);

    expect(failure).toBe(badGateway);
    expect(read.calls).toBe(1);
  });

  it('does not ask again once the read is aborted (a filter change)', async () => {
    const controller = new AbortController();
    const read = readFailing([LOKI_DEADLINE]);
    const retries: Retry[] = [];
    controller.abort();

    const failure = await continueAfterLokiDeadline(read.run, {
      signal: controller.signal,
      onRetry: (retry) => retries.push(retry),
    }).catch((error: unknown) => error);

    expect(failure).toBe(LOKI_DEADLINE);
    expect({ calls: read.calls, retries }).toEqual({ calls: 1, retries: [] });
  });
});

describe('continueAfterLokiDeadline while the store of closed days fills', () => {
  const filling = (daysPresent: number, retryAfterSeconds = 10): FailedAnswer => ({
    status: 503,
    detail: `The store of closed days is being filled: ${daysPresent} of 365 closed days present`,
    store: { daysPresent, daysNeeded: 365, etaSeconds: (365 - daysPresent) * 2 },
    retryAfterSeconds,
  });

  it('asks again after each Retry-After while days arrive, telling how far the store is', async () => {
    const read = readFailing([filling(0, 30), filling(120, 90), filling(300, 1)]);
    const retries: Retry[] = [];
    const waited: number[] = [];

    const value = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: (retry) => retries.push(retry),
      waitMs: (seconds) => {
        waited.push(seconds);
        return 0;
      },
    });

    expect(value).toBe('answer');
    expect(retries.map((retry) => retry.store?.daysPresent)).toEqual([0, 120, 300]);
    expect(waited).toEqual([30, 60, 2]);
  });

  it('shows the error once the store stops moving', async () => {
    const stuck = filling(42);
    const read = readFailing([filling(10), stuck, stuck, stuck, stuck]);

    const failure = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: () => {},
      waitMs: () => 0,
    }).catch((error: unknown) => error);

    expect(failure).toBe(stuck);
    expect(read.calls).toBe(2 + FILL_STALLS_ALLOWED);
  });

  it('does not take a plain 503 for a store being filled', async () => {
    const unavailable: FailedAnswer = { status: 503, detail: 'Service Unavailable' };
    const read = readFailing([unavailable]);

    const failure = await continueAfterLokiDeadline(read.run, {
      signal: new AbortController().signal,
      onRetry: () => {},
      waitMs: () => 0,
    }).catch((error: unknown) => error);

    expect(storeFilling(unavailable)).toBeUndefined();
    expect(failure).toBe(unavailable);
    expect(read.calls).toBe(1);
  });
});
