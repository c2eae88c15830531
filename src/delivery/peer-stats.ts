/** Webhook delivery counters of one peer since this process started. */
export interface PeerDeliveryStats {
  /** Batches delivered (2xx). */
  deliveries: number;
  /** Events in those batches. */
  deliveredEvents: number;
  /** Delivery attempts that failed and were requeued. */
  failures: number;
  /** Attempts made while the previous one had failed: the retries observed. */
  retries: number;
  /** Batches a peer refused for good (400/413/422), dropped. */
  refusedBatches: number;
  /** Failures since the last success; 0 when healthy. */
  consecutiveFailures: number;
  /** Milliseconds until the backoff ends; 0 = may be flushed now. */
  retryInMs: number;
  /** Events waiting in its webhook queue. */
  queued: number;
  lastError?: string;
}

/** What delivery keeps per peer; PeerDeliveryStats is its public view. */
export type PeerState = Omit<PeerDeliveryStats, 'retryInMs' | 'queued' | 'lastError'> & {
  /** Epoch ms before which the peer is not tried again (unless forced). */
  nextAttemptAt: number;
  lastError: string | undefined;
};

export function newPeerState(): PeerState {
  return {
    deliveries: 0,
    deliveredEvents: 0,
    failures: 0,
    retries: 0,
    refusedBatches: 0,
    consecutiveFailures: 0,
    nextAttemptAt: 0,
    lastError: undefined,
  };
}

export function peerStats(p: PeerState, queued: number, now: number): PeerDeliveryStats {
  return {
    deliveries: p.deliveries,
    deliveredEvents: p.deliveredEvents,
    failures: p.failures,
    retries: p.retries,
    refusedBatches: p.refusedBatches,
    consecutiveFailures: p.consecutiveFailures,
    retryInMs: Math.max(0, p.nextAttemptAt - now),
    queued,
    ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
  };
}
