import type { Config } from '../config';
import { logger } from '../logger';
import { connectionKey, lokiSettingsFrom } from '../loki/client';
import { lokiConnection } from '../loki/http';
import { createLokiServiceLister, type ServiceLister } from '../loki/labels';
import { boundedMemo } from '../memo';
import { recordCacheLookup } from '../observability/metrics';
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
 * The namespace's services behind a TTL cache, like the team list: one Loki round shared by concurrent
 * callers, and the expired list served (marked stale) when Loki fails.
 */
export function createServiceCatalog(
  lister: ServiceLister,
  options: { ttlMs: number; now?: () => number },
): ServiceCatalog {
  const now = options.now ?? Date.now;
  let cached: { services: string[]; fetchedAt: number } | undefined;
  let inFlight: Promise<string[]> | undefined;

  const fetchServices = (): Promise<string[]> => {
    // GitOps reports share the namespace under a service name of this API's own, not a service of the organisation.
    inFlight ??= lister
      .listServices()
      .then((services) => services.filter((service) => service !== STATUS_SERVICE_NAME))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    async getServices(request = {}) {
      const fresh = cached !== undefined && now() - cached.fetchedAt < options.ttlMs;
      if (!request.refresh) recordCacheLookup('services', fresh);
      if (cached !== undefined && fresh && !request.refresh)
        return { services: cached.services, cache: 'hit' };
      try {
        const services = await fetchServices();
        cached = { services, fetchedAt: now() };
        return { services, cache: 'miss' };
      } catch (error) {
        if (cached === undefined) throw error;
        logger.warn('Loki failed: serving the cached service list', {
          error: error instanceof Error ? error.message : String(error),
        });
        return { services: cached.services, cache: 'stale' };
      }
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
