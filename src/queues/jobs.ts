import type { DefaultJobOptions, JobsOptions } from 'bullmq';
import type { QueueName } from '../config.ts';

/**
 * The job catalog: every job Parley enqueues, by queue and job name, with its payload type, how it
 * retries (QUEUE_DEFAULTS, then JOB_OPTIONS) and how its id is made (the `…JobId` functions).
 * Producers and processors both use these, so a payload, a retry policy or an id can't drift
 * between them.
 */

/** Diagnostic round trip: edge → queue → worker → Socket.IO relay → the asking socket. */
export interface ProbePayload {
  nonce: string;
  /** The socket that asked; the worker answers to the room of that socket id. */
  socketId?: string;
  /** Simulated work, for drills of shutdown and recovery (never taken from a client). */
  holdMs?: number;
}

export interface GenerateReplyPayload {
  userId: string;
  conversationId: string;
  /** The assistant message to fill; also the job id, so a turn can't be answered twice. */
  messageId: string;
}

export interface IngestDocumentPayload {
  userId: string;
  /** Also the job id: a document is ingested by one job at a time, and delete can find it. */
  documentId: string;
}

export interface EmbedMessagesPayload {
  userId: string;
  /** A finished assistant message; it and the user message it answers become searchable. */
  messageId: string;
}

export interface VerificationEmailPayload {
  userId: string;
}

export interface ConversationPayload {
  userId: string;
  conversationId: string;
}

export interface SummarizePayload extends ConversationPayload {
  /** The newest message the new summary must cover. */
  throughId: string;
}

export interface MaintenancePayload {
  trigger: 'schedule' | 'admin';
}

export interface SweepPayload {
  /** Only rows unchanged this long are looked at: a job that just failed is still ending its row. */
  graceMs: number;
}

export interface JobCatalog {
  chat: {
    'generate-reply': GenerateReplyPayload;
    'generate-title': ConversationPayload;
    'summarize-conversation': SummarizePayload;
  };
  ingest: { 'ingest-document': IngestDocumentPayload; 'embed-messages': EmbedMessagesPayload };
  maintenance: {
    probe: ProbePayload;
    'send-verification-email': VerificationEmailPayload;
    'maintenance-run': MaintenancePayload;
    'sweep-stuck-work': SweepPayload;
  };
}

export type JobName<Q extends QueueName> = keyof JobCatalog[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobCatalog[Q][N];

const HOUR = 3_600;
const DAY = 24 * HOUR;

/**
 * Retry and retention per queue, the defaults of its jobs. Completed and failed jobs are bounded
 * by age and count so Redis stays small; Postgres, not Redis, is the record of what happened.
 */
export const QUEUE_DEFAULTS: Record<QueueName, DefaultJobOptions> = {
  chat: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: { age: HOUR, count: 1_000 },
    removeOnFail: { age: 7 * DAY, count: 5_000 },
  },
  ingest: {
    // 5 s doubling: five retries span about two and a half minutes of a Postgres or Redis outage.
    attempts: 6,
    backoff: { type: 'exponential', delay: 5_000 },
    removeOnComplete: { age: DAY, count: 1_000 },
    removeOnFail: { age: 7 * DAY, count: 5_000 },
  },
  maintenance: {
    attempts: 2,
    backoff: { type: 'exponential', delay: 10_000 },
    removeOnComplete: { age: DAY, count: 200 },
    removeOnFail: { age: 7 * DAY, count: 1_000 },
  },
};

/** Per-job retry options, over the queue's defaults (QUEUE_DEFAULTS); applied when enqueued. */
export const JOB_OPTIONS: { [Q in QueueName]: { [N in JobName<Q>]?: JobsOptions } } = {
  chat: {
    // Stalls are recovered by BullMQ without using attempts; these cover errors before any token
    // (model errors end the answer at once). Such errors are mostly Postgres or Redis away: 9
    // tries, 0.5 s doubling, span about two minutes of outage before the answer ends failed.
    'generate-reply': { attempts: 9, backoff: { type: 'exponential', delay: 500 } },
    'generate-title': { attempts: 2 },
    'summarize-conversation': { attempts: 2, priority: 10 },
  },
  ingest: {
    // 'ingest-document' keeps the queue's retries: an unreadable file ends at once without one.
    // Search indexing waits behind documents a user is waiting for.
    'embed-messages': { attempts: 3, backoff: { type: 'exponential', delay: 10_000 }, priority: 20 },
  },
  maintenance: {
    // A diagnostic: a failed probe is reported, never retried.
    probe: { attempts: 1 },
    // SMTP outages last minutes: back off from 30 s, five tries.
    'send-verification-email': { attempts: 5, backoff: { type: 'exponential', delay: 30_000 } },
    'maintenance-run': { attempts: 3, backoff: { type: 'exponential', delay: 60_000 } },
    // The next tick is a minute away: no retry.
    'sweep-stuck-work': { attempts: 1 },
  },
};

/*
 * Job ids. A custom id makes enqueueing idempotent (BullMQ returns the existing job) and lets the
 * edge find a job again to stop it; rows and jobs that share an id let the sweeper match them.
 */

/** generate-reply: the assistant message it fills, so a turn can't be answered twice. */
export const replyJobId = (messageId: string) => messageId;
/** generate-title: one per conversation. */
export const titleJobId = (conversationId: string) => `title-${conversationId}`;
/** summarize-conversation: one per conversation and newest message covered. */
export const summaryJobId = (conversationId: string, throughId: string) =>
  `summarize-${conversationId}-${throughId}`;
/** ingest-document: the document, so delete can find its job. */
export const ingestJobId = (documentId: string) => documentId;
/** embed-messages: the finished answer whose turn becomes searchable. */
export const embedJobId = (messageId: string) => `embed-${messageId}`;

/** The schedulers (upserted by id, so one schedule however many workers start). */
export const MAINTENANCE_SCHEDULER_ID = 'maintenance-run';
export const SWEEP_SCHEDULER_ID = 'sweep-stuck-work';
