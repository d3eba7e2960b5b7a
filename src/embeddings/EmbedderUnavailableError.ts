/**
 * The embedding model could not be loaded. `message` is for operators (which model, where it
 * was looked for, how to fix it) and goes to logs and /health/ready; users get USER_MESSAGE.
 */
export class EmbedderUnavailableError extends Error {
  static readonly CODE = 'embedder_unavailable';
  static readonly USER_MESSAGE =
    'Searching documents is not available right now (the embedding model is not loaded); try again in a few minutes.';

  constructor(operatorDetail: string) {
    super(operatorDetail);
    this.name = 'EmbedderUnavailableError';
  }
}
