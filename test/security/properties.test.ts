import fc from 'fast-check';
import { invoke } from '../helpers/lambda';
import { type ApiUnderTest, startApi } from './api';
import { mintToken } from './tokens';

/** Whatever a client sends, the API answers JSON with a status below 500 and never throws. */

let api: ApiUnderTest;
let authorization: Record<string, string>;

beforeAll(async () => {
  api = await startApi();
  authorization = { authorization: `Bearer ${await mintToken({ expiresIn: '1h' })}` };
});
afterAll(async () => api.restore());

function expectClientAnswer(response: { statusCode: number; json: unknown }): void {
  expect(response.statusCode).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expect(response.json).toMatchObject({ status: response.statusCode, detail: expect.any(String) });
  }
}

const dateLike = fc.oneof(
  fc
    .date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true })
    .map((date) => date.toISOString()),
  fc
    .date({ min: new Date('2026-09-01'), max: new Date('2026-11-27'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  fc.string(),
  fc.integer(),
  fc.constant(null),
);

const nameLike = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
  fc.anything(),
);

/** Bodies close to valid ones, where handlers are most likely to trip on a corner. */
const nearlyValidBody = fc.record(
  {
    start: dateLike,
    end: dateLike,
    repositories: fc.oneof(fc.array(nameLike, { maxLength: 5 }), nameLike),
    team: nameLike,
  },
  { requiredKeys: [] },
);

describe('POST /data under generated bodies', () => {
  it('never answers 5xx for any JSON text or raw text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((value) => JSON.stringify(value)),
        ),
        async (body) => {
          const response = await invoke(api.handlers.data, {
            method: 'POST',
            path: '/data',
            body,
            headers: authorization,
          });
          expectClientAnswer(response);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never answers 5xx for bodies shaped like real requests', async () => {
    await fc.assert(
      fc.asyncProperty(nearlyValidBody, async (body) => {
        const response = await invoke(api.handlers.data, {
          method: 'POST',
          path: '/data',
          body: JSON.stringify(body),
          headers: authorization,
        });
        expectClientAnswer(response);
      }),
      { numRuns: 100 },
    );
  });
});

describe('query routes under generated query strings', () => {
  const queryValue = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      'deployment_frequency',
      'change_failure_rate',
      'weekly',
      'all',
      'true',
      'name',
      '2026-10-01',
    ),
    fc.integer({ min: -1e15, max: 1e15 }).map(String),
  );
  const query = fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        'metric',
        'interval',
        'start_date',
        'end_date',
        'from',
        'to',
        'team',
        'repositories',
        'fields',
        'no_cache',
      ),
      fc.string({ minLength: 1, maxLength: 10 }),
    ),
    queryValue,
    { maxKeys: 5 },
  );

  it.each([
    ['/teams', 'teams'],
    ['/metrics', 'metrics'],
    ['/metrics/summary', 'summary'],
  ] as const)('%s never answers 5xx', async (path, name) => {
    await fc.assert(
      fc.asyncProperty(query, async (parameters) => {
        const response = await invoke(api.handlers[name], {
          path,
          query: parameters,
          headers: authorization,
        });
        expectClientAnswer(response);
      }),
      { numRuns: 40 },
    );
  });
});
