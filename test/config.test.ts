import { ConfigError, parseConfig, parseDuration } from '../lib/config';

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = parseConfig({});

    expect(config).toMatchObject({
      port: 3000,
      serviceNamespace: 'github',
      productionEnvironments: ['production', 'prod'],
      incidentLabels: ['incident'],
      loki: { pageLimit: 5000, maxQueryLengthMs: 30 * 86_400_000, concurrency: 4 },
      lookaroundMs: 30 * 86_400_000,
      maxRangeMs: 1100 * 86_400_000,
    });
  });

  it('treats an empty variable as not set, as serverless.yml passes unset tunables', () => {
    const config = parseConfig({ LOKI_PAGE_LIMIT: '', GITHUB_CONCURRENCY: '', LOKI_URL: '' });

    expect(config.loki.pageLimit).toBe(5000);
    expect(config.github.concurrency).toBe(8);
    expect(config.loki.url).toBeUndefined();
  });

  it('accepts QUERY_SERVICE_NAMESPACE as the older name of SERVICE_NAME', () => {
    expect(parseConfig({ QUERY_SERVICE_NAMESPACE: 'gitlab' }).serviceNamespace).toBe('gitlab');
    expect(parseConfig({ QUERY_SERVICE_NAMESPACE: 'gitlab', SERVICE_NAME: 'github' }).serviceNamespace).toBe(
      'github',
    );
  });

  it('compares production environment names in lower case', () => {
    expect(
      parseConfig({ PRODUCTION_ENVIRONMENT_NAMES: 'Production, PROD-EU ,' }).productionEnvironments,
    ).toEqual(['production', 'prod-eu']);
  });

  it.each([
    ['LOKI_PAGE_LIMIT', '6000'],
    ['LOKI_URL', 'not a url'],
    ['LOKI_MAX_QUERY_LENGTH', 'thirty days'],
    ['GITHUB_API_URL', 'ftp://github.example.com'],
  ])('fails with a message naming %s when it is %p', (variable, value) => {
    expect(() => parseConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [variable]: value })).toThrow(variable);
  });

  it('gives the data cache a fifth of the Lambda function memory unless DATA_CACHE_MAX_MB says otherwise', () => {
    expect(parseConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' }).dataCache.maxMb).toBe(204);
    expect(parseConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256' }).dataCache.maxMb).toBe(51);
    expect(parseConfig({}).dataCache.maxMb).toBe(256);
    expect(
      parseConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024', DATA_CACHE_MAX_MB: '64' }).dataCache.maxMb,
    ).toBe(64);
  });

  it('reads Loki-style durations', () => {
    expect(parseDuration('30d1h')).toBe(721 * 3_600_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(() => parseDuration('30 days')).toThrow();
  });

  it("reads a bare 0 as Loki's no limit", () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseConfig({ LOKI_MAX_QUERY_LENGTH: '0' }).loki.maxQueryLengthMs).toBe(0);
  });
});
