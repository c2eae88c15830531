export { WebhookDelivery, MAX_EVENTS_PER_DELIVERY, type WebhookDeliveryOptions, type DeliveryQueues } from './webhook-delivery.ts';
export { DEFAULT_RETRY_POLICY, backoffMs, exponentialDelay, type RetryPolicy } from './retry-policy.ts';
export { NON_RETRYABLE_STATUSES, refusedEventIndexes } from './refused-events.ts';
export { type PeerDeliveryStats } from './peer-stats.ts';
export { chooseQueue, pollTargets, toNodeRid, type PollTarget, type QueueKind, type TargetGraph } from './targets.ts';
