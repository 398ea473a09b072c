import * as z from 'zod';
import { resetConfigForTests } from '../../lib/config';
import { jsonResponse } from '../../lib/http/response';
import { type RouteSpec, routeHandler } from '../../lib/http/route';
import { queryBoolean } from '../../lib/http/validation';
import { expectBadRequestNaming, invoke } from '../helpers/lambda';
import { mintToken, TEST_JWT_SECRET } from '../security/tokens';

const SAVED_ENV = { ...process.env };

afterEach(() => {
  process.env = { ...SAVED_ENV };
  resetConfigForTests();
});

/** A public route of a test's own, with no upstream, and the fields the test gives. */
function testRoute<const Extra extends Partial<RouteSpec>>(extra: Extra) {
  return { method: 'get', path: '/x', operationId: 'getX', auth: false, upstream: false, ...extra } as const;
}

/** A handler that answers what it was given. */
const echo = async (request: { query: unknown; body: unknown }) =>
  jsonResponse(200, { query: request.query ?? null, body: request.body ?? null });

describe('the query string a route handler is given', () => {
  const filters = z.object({
    team: z.string().min(1).optional(),
    exclude: z
      .string()
      .transform((text) => text.split(',').filter((part) => part !== ''))
      .optional(),
    no_cache: queryBoolean.optional(),
  });

  it('is parsed with the schema of the route, transforms applied', async () => {
    const handler = routeHandler(testRoute({ query: filters }), echo);

    const response = await invoke(handler, { path: '/x', query: { exclude: 'a,b', no_cache: '1' } });

    expect(response.json).toEqual({ query: { exclude: ['a', 'b'], no_cache: true }, body: null });
  });

  it('refuses a parameter the schema does not know, naming it', async () => {
    const handler = routeHandler(testRoute({ query: filters }), echo);

    const response = await invoke(handler, { path: '/x', query: { tema: 'web' } });

    expectBadRequestNaming(response, 'tema');
  });

  it('is parsed once per request', async () => {
    let parses = 0;
    const counted = z.object({
      n: z.string().transform((text) => {
        parses += 1;
        return Number(text);
      }),
    });
    const handler = routeHandler(testRoute({ query: counted }), echo);

    await invoke(handler, { path: '/x', query: { n: '3' } });

    expect(parses).toBe(1);
  });

  it('of a route without a query schema is not read at all', async () => {
    const handler = routeHandler(testRoute({}), echo);

    const response = await invoke(handler, { path: '/x', query: { anything: 'goes' } });

    expect(response.json).toEqual({ query: null, body: null });
  });

  it('with filters reading counts an empty value as absent, except the ones whose emptiness means something', async () => {
    const handler = routeHandler(
      testRoute({ query: filters, queryReading: 'filters', emptyMeaningful: ['exclude'] }),
      echo,
    );

    const response = await invoke(handler, { path: '/x', query: { team: '', exclude: '' } });

    expect(response.json).toEqual({ query: { exclude: [] }, body: null });
  });

  it('with strict reading refuses an empty value its schema refuses', async () => {
    const handler = routeHandler(testRoute({ query: filters }), echo);

    const response = await invoke(handler, { path: '/x', query: { team: '' } });

    expectBadRequestNaming(response, 'team');
  });

  it('with lenient reading keeps what parses and leaves out the rest', async () => {
    const handler = routeHandler(
      testRoute({ query: z.object({ deep: queryBoolean.optional() }), queryReading: 'lenient' }),
      echo,
    );

    const garbled = await invoke(handler, { path: '/x', query: { deep: 'maybe', cache_buster: '123' } });
    const deep = await invoke(handler, { path: '/x', query: { deep: 'true', cache_buster: '124' } });

    expect(garbled.json).toEqual({ query: {}, body: null });
    expect(deep.json).toEqual({ query: { deep: true }, body: null });
  });
});

describe('the body a route handler is given', () => {
  const post = <const Extra extends Partial<RouteSpec>>(extra: Extra) =>
    testRoute({ method: 'post', ...extra });
  const item = z.object({ name: z.string(), size: z.number().default(1) });

  it('is the JSON body checked by the schema of the route, unknown keys left out', async () => {
    const handler = routeHandler(post({ body: item }), echo);

    const response = await invoke(handler, { method: 'POST', path: '/x', body: { name: 'a', other: true } });

    expect(response.json).toEqual({ query: null, body: { name: 'a', size: 1 } });
  });

  it('answers 400 naming a missing field', async () => {
    const handler = routeHandler(post({ body: item }), echo);

    const response = await invoke(handler, { method: 'POST', path: '/x', body: {} });

    expectBadRequestNaming(response, 'name');
  });

  it('of a raw-body route is left as it arrived, for the handler to read', async () => {
    const handler = routeHandler(post({ body: item, rawBody: true }), async ({ event }) =>
      jsonResponse(200, { raw: event.body }),
    );

    const response = await invoke(handler, { method: 'POST', path: '/x', body: '{"name": "a"}' });

    expect(response.json).toEqual({ raw: '{"name": "a"}' });
  });

  it("is refused on a route that reads none, with the route's size limit applied before", async () => {
    const bodyless = routeHandler(testRoute({}), echo);
    const small = routeHandler(post({ body: item, maxBodyBytes: 16 }), echo);

    const refused = await invoke(bodyless, { path: '/x', body: { name: 'a' } });
    const tooLarge = await invoke(small, { method: 'POST', path: '/x', body: { name: 'a'.repeat(32) } });

    expectBadRequestNaming(refused, 'body');
    expect(tooLarge.statusCode).toBe(413);
  });
});

describe('the stack a route entry implies', () => {
  it('asks for a bearer token on a route with auth', async () => {
    process.env = { ...SAVED_ENV, AUTH_JWT_SECRET: TEST_JWT_SECRET };
    delete process.env.AUTH_MODE;
    resetConfigForTests();
    const handler = routeHandler(testRoute({ auth: true }), echo);

    const anonymous = await invoke(handler, { path: '/x' });
    const signed = await invoke(handler, {
      path: '/x',
      headers: { authorization: `Bearer ${await mintToken()}` },
    });

    expect(anonymous.statusCode).toBe(401);
    expect(signed.statusCode).toBe(200);
  });

  it("writes errors in the route's format", async () => {
    const handler = routeHandler(
      testRoute({
        method: 'post',
        body: z.object({ repo: z.string() }),
        errorFormat: 'status-message',
      }),
      echo,
    );

    const response = await invoke(handler, { method: 'POST', path: '/x', body: {} });

    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({ status: 'error', message: expect.stringContaining('repo') });
  });

  it('serves several routes from one function only when they open alike', () => {
    const page = testRoute({ path: '/', operationId: 'getPage' });
    const redirect = testRoute({ path: '/page', operationId: 'redirectToPage' });
    const withQuery = testRoute({ path: '/q', operationId: 'getQ', query: z.object({}) });

    expect(routeHandler([page, redirect], echo).routes).toEqual([page, redirect]);
    expect(() => routeHandler([page, withQuery], echo)).toThrow(/getQ does not open like getPage/);
  });
});

describe('a route handler still working when the function’s time runs out', () => {
  it('answers 504 saying the answer was not ready in time, not a bare 500', async () => {
    // Arrange: a handler that takes longer than the time Lambda has left.
    const handler = routeHandler(testRoute({}), async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return jsonResponse(200, { late: true });
    });

    // Act
    const response = await invoke(handler, { path: '/x' }, 50);

    // Assert
    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({
      status: 504,
      detail: expect.stringContaining('not ready before the function’s time limit'),
    });
  });
});
