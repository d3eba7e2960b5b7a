import { LlmError } from './LlmProvider.ts';

/**
 * What an upstream model service's failure means for the pipeline, whichever SDK reported it:
 * 401/403 (our credentials) and 400/404/422 (our request) will fail again, so they are final;
 * every other status (429, 5xx and the rare rest), a failure reported inside the stream, timeouts
 * and lost connections may pass, so they are retryable (and a fallback model may take over). The messages are ours: never the SDK's text, which may quote the request.
 */
export function llmErrorForStatus(status: number | undefined, cause: unknown): LlmError {
  // An error without a status: one reported inside the stream.
  if (status === undefined) return new LlmError('The model service failed.', { retryable: true, cause });
  if (status === 401 || status === 403) {
    return new LlmError('The model service refused our credentials.', { retryable: false, status, cause });
  }
  if (status === 400 || status === 404 || status === 422) {
    // Groq's `tool_use_failed`: the model wrote a malformed tool call; the step can be asked again without tools.
    const code = errorCode(cause) === 'tool_use_failed' ? ('tool_use_failed' as const) : undefined;
    return new LlmError('The model service rejected the request.', { retryable: false, status, code, cause });
  }
  return new LlmError(
    status === 429 ? 'The model service is rate limiting us.' : 'The model service failed.',
    {
      retryable: true,
      status,
      cause,
    },
  );
}

/** The `code` of an SDK error's body, `{ error: { message, type, code } }` (both SDKs keep the body as `.error`). */
function errorCode(cause: unknown): unknown {
  const body = (cause as { error?: unknown } | undefined)?.error as
    | { error?: { code?: unknown }; code?: unknown }
    | undefined;
  return body?.error?.code ?? body?.code;
}

/** No answer at all: refused or dropped connection, DNS, timeout. */
export const unreachableError = (cause: unknown) =>
  new LlmError('The model service could not be reached.', { retryable: true, cause });

/** An SDK's error classes (groq-sdk and openai share their shape: a connection error, an API error with a status). */
export interface SdkErrors {
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIError: abstract new (...args: never[]) => Error & { status?: number };
}

/** An SDK's error reduced to what the pipeline decides on; the message never carries the key. */
export function sdkLlmError(error: unknown, sdk: SdkErrors): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof sdk.APIConnectionError) return unreachableError(error);
  if (error instanceof sdk.APIError) return llmErrorForStatus(error.status, error);
  return new LlmError('The model stream failed.', { retryable: true, cause: error });
}
