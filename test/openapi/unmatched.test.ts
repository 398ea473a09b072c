import type { RouteDescription } from '../../lib/openapi/routes';
import { allowedMethods, unmatchedRouteError } from '../../lib/openapi/unmatched';

const route = (method: 'get' | 'post', path: string) => ({ method, path }) as RouteDescription;

describe('the methods a path is served with', () => {
  const table = [route('get', '/items/{id}'), route('post', '/items/{id}'), route('get', '/items')];

  it('matches a template parameter against one path segment', () => {
    expect(allowedMethods('/items/42', table)).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('names HEAD after GET, as every GET route answers HEAD', () => {
    expect(allowedMethods('/items', table)).toEqual(['GET', 'HEAD']);
    expect(allowedMethods('/data')).toEqual(['POST']);
  });

  it('does not let a parameter span segments or be empty', () => {
    expect(allowedMethods('/items/42/more', table)).toEqual([]);
    expect(allowedMethods('/items/', table)).toEqual([]);
  });

  it('reads dots of a path literally', () => {
    expect(allowedMethods('/openapiXjson')).toEqual([]);
    expect(allowedMethods('/openapi.json')).toEqual(['GET', 'HEAD']);
  });
});

describe('the error for an unmatched request', () => {
  it('names a plain method token and leaves anything else out', () => {
    expect(unmatchedRouteError('put', '/teams').message).toBe('/teams answers GET and HEAD only, not PUT');
    expect(unmatchedRouteError('<script>', '/teams').message).toBe('/teams answers GET and HEAD only');
    expect(unmatchedRouteError('get', '/data').message).toBe('/data answers POST only, not GET');
  });
});
