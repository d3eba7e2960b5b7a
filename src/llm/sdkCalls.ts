import type { LlmError } from './LlmProvider.ts';

/**
 * The calls groq-sdk and openai make alike (both clients have the same generated shape): a
 * whole answer without a stream, and listing the models as a cheap probe. One home for both
 * providers; what differs by SDK (the client, its error classes, how a stream is read) stays in
 * each provider.
 */
export interface ChatCompletionsClient<Body> {
  chat: {
    completions: {
      create(
        body: Body,
        options: { signal?: AbortSignal },
      ): PromiseLike<{ choices: Array<{ message?: { content?: string | null } }> }>;
    };
  };
  models: {
    list(options: { signal?: AbortSignal; maxRetries?: number; timeout?: number }): PromiseLike<unknown>;
  };
}

type ToLlmError = (error: unknown) => LlmError;

/** A short, whole answer (titles, summaries): the first choice's text. */
export async function completeOnce<Body>(
  client: ChatCompletionsClient<Body>,
  body: Body,
  signal: AbortSignal | undefined,
  toLlmError: ToLlmError,
): Promise<string> {
  try {
    const completion = await client.chat.completions.create(body, { signal });
    return completion.choices[0]?.message?.content ?? '';
  } catch (error) {
    throw toLlmError(error);
  }
}

/** Lists the models: needs a reachable endpoint that takes the key, costs no tokens. */
export async function probeModels(
  client: ChatCompletionsClient<never>,
  signal: AbortSignal | undefined,
  toLlmError: ToLlmError,
): Promise<void> {
  try {
    await client.models.list({ signal, maxRetries: 0, timeout: 5_000 });
  } catch (error) {
    throw toLlmError(error);
  }
}
