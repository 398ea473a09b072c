import { createRefreshingCache } from '../cache/refreshing';
import type { Config } from '../config';
import { logger } from '../logger';
import { connectionKey, lokiSettingsFrom } from '../loki/client';
import { lokiConnection } from '../loki/http';
import { createLokiServiceLister, type ServiceLister } from '../loki/labels';
import { boundedMemo } from '../memo';
import type { Secrets } from '../secrets';
import { STATUS_SERVICE_NAME } from '../status/store';

export interface ServiceList {
  services: string[];
  /** hit: from memory; miss: asked Loki now; stale: Loki failed and the last list is served. */
  cache: 'hit' | 'miss' | 'stale';
}

export interface ServiceCatalog {
  getServices(options?: { refresh?: boolean }): Promise<ServiceList>;
}

/**
 * The namespace's services behind the same refreshing cache as the team list: one Loki round shared by
 * concurrent callers, and the expired list served (marked stale) when Loki fails.
 */
export function createServiceCatalog(
  lister: ServiceLister,
  options: { ttlMs: number; now?: () => number },
): ServiceCatalog {
  const cache = createRefreshingCache({
    // GitOps reports share the namespace under a service name of this API's own, not a service of the organisation.
    load: async () => (await lister.listServices()).filter((service) => service !== STATUS_SERVICE_NAME),
    ttlMs: options.ttlMs,
    metric: 'services',
    now: options.now,
  });
  return {
    async getServices(request = {}) {
      const answer = await cache.get(request);
      if (answer.cache === 'stale') {
        logger.warn('Loki failed: serving the cached service list', {
          error: answer.error instanceof Error ? answer.error.message : String(answer.error),
        });
      }
      return { services: answer.value, cache: answer.cache };
    },
  };
}

const catalogs = boundedMemo<ServiceCatalog>(8);

/** The service catalog of this container, per Loki connection and namespace (warm invocations share it). */
export function getServiceCatalog(config: Config, secrets: Pick<Secrets, 'lokiToken'>): ServiceCatalog {
  const settings = lokiSettingsFrom(config, secrets);
  const key = JSON.stringify([connectionKey(settings), config.serviceNamespace, config.maxRangeMs]);
  return catalogs(key, () =>
    createServiceCatalog(
      createLokiServiceLister(lokiConnection(settings), {
        serviceNamespace: config.serviceNamespace,
        lookbackMs: config.maxRangeMs,
        maxQueryLengthMs: config.loki.maxQueryLengthMs,
        concurrency: config.loki.concurrency,
      }),
      { ttlMs: config.github.teamsCacheTtlMs },
    ),
  );
}
