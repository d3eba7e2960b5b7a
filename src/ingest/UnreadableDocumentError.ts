export type UnreadableReason = 'encrypted' | 'corrupt' | 'no_text';

/**
 * The upload itself can never be ingested, so retrying is pointless; `message` is written for the person who
 * uploaded it and may be shown as is.
 */
export class UnreadableDocumentError extends Error {
  readonly reason: UnreadableReason;

  constructor(reason: UnreadableReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnreadableDocumentError';
    this.reason = reason;
  }
}
