import type { GenerationRequest, PromptMessage, ToolCallRequest, ToolSpec } from './LlmProvider.ts';

/**
 * The OpenAI chat-completions wire format, which Groq and every OpenAI-compatible server speak:
 * our prompt and tools in, streamed tool-call fragments back to whole calls. One home for both
 * providers, so a change in the format is made once.
 */

export type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

export const wireMessages = (messages: PromptMessage[]): WireMessage[] =>
  messages.map((message) => {
    if (message.role === 'tool') {
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    }
    if (message.role === 'assistant' && message.toolCalls?.length) {
      return {
        role: 'assistant',
        content: message.content || null,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
    return { role: message.role, content: message.content };
  });

export const wireTools = (tools: ToolSpec[] | undefined) =>
  tools?.length
    ? tools.map((tool) => ({
        type: 'function' as const,
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      }))
    : undefined;

/**
 * A request's body, but for streaming options. Servers differ in which name they take for the
 * answer's length: Groq's `max_completion_tokens`, or `max_tokens` (the one every
 * OpenAI-compatible server understands).
 */
export const completionParams = <LengthField extends 'max_tokens' | 'max_completion_tokens'>(
  request: GenerationRequest,
  lengthField: LengthField,
) => ({
  model: request.model,
  messages: wireMessages(request.messages),
  tools: wireTools(request.tools),
  temperature: request.temperature,
  ...({ [lengthField]: request.maxTokens } as Record<LengthField, number>),
});

/** One streamed fragment of a tool call, as it appears in `choices[0].delta.tool_calls`. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/**
 * Whole tool calls from streamed fragments: the first fragment of a call carries its index, id
 * and name; later ones with the same index append to its arguments (and to its name, for a
 * server that splits that too).
 */
export class ToolCallAssembler {
  private readonly calls = new Map<number, ToolCallRequest>();

  add(deltas: ToolCallDelta[] | undefined): void {
    for (const delta of deltas ?? []) {
      const call = this.calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name += delta.function.name;
      if (delta.function?.arguments) call.arguments += delta.function.arguments;
      this.calls.set(delta.index, call);
    }
  }

  /** The calls in the model's order; a call without an id gets one (some servers omit it). */
  get result(): ToolCallRequest[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  }
}
