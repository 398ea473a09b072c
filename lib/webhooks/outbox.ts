import type { LokiEntry } from '../loki/types';

/**
 * Where a verified delivery goes when Loki does not take its entries (down, slow, refusing): kept durably
 * and forwarded later, so GitHub, which does not retry a failed delivery by itself, never loses one.
 */
export interface PendingDelivery {
  /** X-GitHub-Delivery. */
  id: string;
  /** X-GitHub-Event. */
  event: string;
  action?: string;
  /** `owner/name` of the repository the delivery is about. */
  repository?: string;
  /** When the receiver got it (RFC 3339). */
  receivedAt: string;
  /** The Loki entries of the delivery, exactly as they would have been pushed. */
  entries: LokiEntry[];
}

export interface DeliveryOutbox {
  /** Resolves once the delivery is kept durably. */
  keep(delivery: PendingDelivery): Promise<void>;
  /** How many deliveries wait to be forwarded. */
  pending(): Promise<number>;
}

/** No outbox configured: a delivery Loki does not take cannot be kept, so the receiver answers with an error. */
export class NoOutbox implements DeliveryOutbox {
  async keep(_delivery: PendingDelivery): Promise<void> {
    throw new Error('No outbox is configured for webhook deliveries');
  }

  async pending(): Promise<number> {
    return 0;
  }
}
