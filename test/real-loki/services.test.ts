import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { loadIntoLoki, uniqueServiceNamespace } from '../../dev/real-loki';
import { lokiConnection } from '../../lib/loki/http';
import { createLokiServiceLister } from '../../lib/loki/labels';
import { streamSelector } from '../../lib/loki/logql';
import type { LokiEntry } from '../../lib/loki/types';
import { describeWithRealLoki, realLokiLimits } from './real-loki';

/**
 * GET /services and the `service` filter on the real Loki: the label-values API scoped by the namespace
 * selector, asked in max_query_length pieces, and a selector on `service_name` choosing exactly the named
 * streams (names with spaces and dots too). The imitation answers the same requests the same way.
 */

const HOUR = 3_600_000;
const NOW = Date.now();
/** The Loki's own limits (its GET /config), which the imitation is given too. */
const LIMITS = realLokiLimits();

describeWithRealLoki('services on the real Loki', (run) => {
  const namespace = uniqueServiceNamespace('dora-test-services');
  const otherNamespace = uniqueServiceNamespace('dora-test-other');
  const SERVICES = ['checkout-service', 'web', 'Legacy Billing v2.1'];
  let imitation: LokiServer;

  const entry = (service: string, serviceNamespace: string, hoursAgo: number): LokiEntry => ({
    labels: { service_name: service, service_namespace: serviceNamespace, team_name: 'payments' },
    timestampNs: `${BigInt(NOW - hoursAgo * HOUR) * 1_000_000n}`,
    line: JSON.stringify({ service, hoursAgo }),
  });
  const entries = [
    ...SERVICES.map((service, index) => entry(service, namespace, 2 + index)),
    entry('elsewhere', otherNamespace, 2),
  ];

  beforeAll(async () => {
    imitation = await startLokiServer({ maxQueryLengthMs: LIMITS.maxQueryLengthMs });
    await loadIntoLoki(run().url, entries);
    await loadIntoLoki(imitation.url, entries);
  });
  afterAll(async () => imitation.close());

  const lister = (url: string) =>
    createLokiServiceLister(lokiConnection({ url, timeoutMs: 30_000, maxRetries: 1 }), {
      serviceNamespace: namespace,
      lookbackMs: 1100 * 24 * HOUR,
      // The API's own setting (LOKI_MAX_QUERY_LENGTH) is at most the Loki's; 30 days when the Loki sets none.
      maxQueryLengthMs: Math.min(LIMITS.maxQueryLengthMs || 30 * 24 * HOUR, 30 * 24 * HOUR),
      concurrency: 4,
    });

  it("lists exactly the namespace's services over 1100 days, the same as the imitation", async () => {
    const real = await lister(run().url).listServices();

    expect(real).toEqual(['checkout-service', 'Legacy Billing v2.1', 'web']);
    expect(await lister(imitation.url).listServices()).toEqual(real);
  });

  const refused: Array<[string, Record<string, string>]> = [
    ['a pipeline stage', { query: `{service_namespace="${namespace}"} | team_name="payments"` }],
  ];
  // A Loki that sets no max_query_length has no range to refuse.
  if (LIMITS.maxQueryLengthMs > 0)
    refused.push([
      'a range over max_query_length',
      {
        query: `{service_namespace="${namespace}"}`,
        start: `${(NOW - LIMITS.maxQueryLengthMs - 10 * 24 * HOUR) * 1e6}`,
      },
    ]);
  it.each(refused)('answers a label-values request with %s as the imitation does', async (_name, params) => {
    const ask = async (url: string) => {
      const search = new URLSearchParams({
        start: `${(NOW - 24 * HOUR) * 1e6}`,
        end: `${NOW * 1e6}`,
        ...params,
      });
      const response = await fetch(`${url}/loki/api/v1/label/service_name/values?${search}`);
      return { status: response.status, text: (await response.text()).trim() };
    };

    const real = await ask(run().url);

    expect(real.status).toBe(400);
    expect(await ask(imitation.url)).toEqual(real);
  });

  it.each([[['Legacy Billing v2.1']], [['web', 'checkout-service']]])(
    'selects only the streams of %j with the service selector',
    async (services) => {
      const search = new URLSearchParams({
        query: streamSelector({ services }, { serviceNamespace: namespace }),
        start: `${(NOW - 24 * HOUR) * 1e6}`,
        end: `${NOW * 1e6}`,
        limit: '100',
      });
      const response = await fetch(`${run().url}/loki/api/v1/query_range?${search}`);
      const body = (await response.json()) as { data: { result: Array<{ stream: Record<string, string> }> } };

      expect(new Set(body.data.result.map((stream) => stream.stream.service_name))).toEqual(
        new Set(services),
      );
    },
  );
});
