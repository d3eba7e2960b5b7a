/**
 * BullMQ's key prefix. Its Lua scripts touch several keys of a queue in one call, which a Redis
 * Cluster allows only within one slot: there the prefix is a hash tag (`{parley}`), so every
 * queue's keys hash alike. On one Redis the plain name stays (existing keys keep their names).
 * Only BullMQ gets the tag: replay logs, cancel flags and rate limits are single-key and keep the
 * plain prefix, so they spread over the cluster's slots.
 */
export const bullmqPrefix = (prefix: string, cluster: boolean) => (cluster ? `{${prefix}}` : prefix);
