import type { EmbedMessagesPayload } from '../../src/queues/jobs.ts';
import type { MessageIndexer } from '../../src/retrieval/MessageIndexer.ts';
import { Task, type TaskContext } from '../Task.ts';

/**
 * Makes a finished turn findable by meaning (see MessageIndexer). Low priority on the ingest
 * queue, behind documents a user is waiting for.
 */
export class EmbedMessagesTask extends Task<EmbedMessagesPayload> {
  private readonly indexer: MessageIndexer;

  constructor(indexer: MessageIndexer) {
    super();
    this.indexer = indexer;
  }

  async perform(payload: EmbedMessagesPayload, { em }: TaskContext) {
    return { embedded: await this.indexer.indexTurn(em, payload) };
  }
}
