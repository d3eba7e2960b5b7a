/**
 * Every Redis key and channel name Parley uses, in one place, each with its slot rule.
 *
 * Why one home: a name built in two places drifts (a janitor scanning a pattern its writer no
 * longer uses, a cluster slot rule honoured by one caller and not another), and on a Redis Cluster
 * the name decides which master holds the data. Only this file builds names; the layering test
 * refuses a key or channel template anywhere else in `src/`.
 *
 * Slot rules:
 * - BullMQ's keys: its Lua scripts touch several keys of a queue in one call, which a cluster
 *   allows only within one slot, so on a cluster the prefix is a hash tag (`{parley}`) and every
 *   queue hashes alike. On one Redis the plain name stays (existing keys keep their names).
 * - Everything else is single-key (replay logs, cancel flags, rate-limit counters) and keeps the
 *   plain prefix, so those keys spread over the cluster's slots.
 * - Channels have no slot: on a cluster a PUBLISH reaches every node (src/redis/cluster.ts).
 */

import { createHash } from 'node:crypto';

/** BullMQ's key prefix: a hash tag on a cluster, the plain name on one Redis. */
export const bullmqPrefix = (prefix: string, cluster: boolean) => (cluster ? `{${prefix}}` : prefix);
/** The same, for a process's Redis settings. */
export const bullmqPrefixOf = ({ redis }: { redis: { queuePrefix: string; clusterNodes?: unknown[] } }) =>
  bullmqPrefix(redis.queuePrefix, Boolean(redis.clusterNodes?.length));

/** An answer's replay log, a Redis Stream (layout: src/relay/replayLog.ts). */
/** Workers' fetch-loop heartbeats of a queue, next to its BullMQ keys (BullMQ's prefix: the queues' slot). */
export const fetchHeartbeatsKey = (bullmqPrefix: string, queue: string) =>
  `${bullmqPrefix}:${queue}:fetching`;

export const replayKey = (prefix: string, messageId: string) => `${prefix}:stream:${messageId}`;
/** Every replay log, for the janitor's per-master scan. */
export const replayKeyPattern = (prefix: string) => `${replayKey(prefix, '')}*`;

/** The flag an edge sets when an answer is cancelled, checked by the worker before and while it streams. */
export const cancelFlagKey = (prefix: string, messageId: string) => `${prefix}:cancel:${messageId}`;

/** A fixed-window rate-limit counter for one bucket (login, messages, …) and one key (user, IP). */
export const rateLimitKey = (prefix: string, bucket: string, key: string) =>
  `${prefix}:ratelimit:${bucket}:${key}`;

/**
 * A count of failed sign-ins, per account or per client IP. The account is named by a digest of
 * its normalised email (sha256, first 32 hex digits), so no address sits in a Redis key name.
 */
export const loginFailuresKey = (prefix: string, scope: 'account' | 'ip', id: string) =>
  `${prefix}:login-failures:${scope}:${
    scope === 'account' ? createHash('sha256').update(id).digest('hex').slice(0, 32) : id
  }`;

/** The Socket.IO adapter's and emitter's pub/sub channel, namespaced like the queues. */
export const realtimeChannel = (prefix: string) => `${prefix}:socket.io`;

/** Where an edge asks whichever worker holds a job to abort it. */
export const cancelChannel = (prefix: string) => `${prefix}:jobs:cancel`;

/** Where an admin's change to the runtime settings is announced. */
export const settingsChannel = (prefix: string) => `${prefix}:settings:changed`;

/** Where an admin's edit of an MCP server is announced (the message is the server's id). */
export const mcpServersChannel = (prefix: string) => `${prefix}:mcp-servers:changed`;
