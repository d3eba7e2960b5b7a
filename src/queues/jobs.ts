import type { JobsOptions } from 'bullmq';
import type { QueueName } from '../config.ts';

/**
 * Every job Parley enqueues, by queue and job name, with its payload type.
 * Producers and processors both use these types, so a payload can't drift between them.
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

/** Per-job retry options, over the queue's defaults (queueDefaults.ts); applied when enqueued. */
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
