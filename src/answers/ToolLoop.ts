import type { EntityManager } from '@mikro-orm/core';
import type { Citation } from '../db/citation.ts';
import {
  type GenerationRequest,
  type GenerationResult,
  LlmError,
  type PromptMessage,
  type ToolCallRequest,
  type ToolSpec,
} from '../llm/LlmProvider.ts';
import type { Logger } from '../logger.ts';
import type { ChatTool } from '../relay/events.ts';
import { Redactor } from '../secrets/Redactor.ts';
import { type Tool, ToolInputError, type ToolOutcome } from '../tools/Tool.ts';

/** What people see of a call in the relay and on the stored message. */
export type ToolActivity = Omit<ChatTool, 'conversationId' | 'messageId' | 'seq'>;

export interface ToolLoopOptions {
  /** A tool's longest run when it names none (Tool.timeoutMs overrides). */
  defaultTimeoutMs: number;
  /** The longest tool result the model reads; longer ones are cut (with a note saying so). */
  maxResultChars: number;
}

export const DEFAULT_TOOL_LOOP_OPTIONS: ToolLoopOptions = {
  defaultTimeoutMs: 15_000,
  maxResultChars: 12_000,
};

/** How much of the model's arguments travels in events and the stored message. */
const MAX_SHOWN_ARGUMENT_CHARS = 2_000;
const MAX_SUMMARY_CHARS = 200;

/** What answers each step: the conversation's model and its fallbacks (src/llm/FallbackChain.ts). */
export interface ModelStream {
  stream(
    request: Omit<GenerationRequest, 'model'>,
    onToken: (delta: string) => void,
  ): Promise<GenerationResult>;
}

export interface ToolLoopRequest {
  models: ModelStream;
  messages: PromptMessage[];
  temperature: number;
  maxTokens: number;
  /** Offered to the model; empty: one plain call, as without a loop. */
  tools: Tool[];
  /** Rounds of tool calls before the final call, which offers no tools. */
  maxToolSteps: number;
  /** The answer's signal: a cancel or a shutdown stops the loop and the running tools. */
  signal: AbortSignal;
  /**
   * Secrets no tool's text may carry on (the model providers' keys); each tool's own (an MCP
   * server's headers) are added. What the model reads, the events, the stored calls and the log
   * lines of this answer are all redacted with the union.
   */
  redactor?: Redactor;
  /** Who the tools run for. */
  userId: string;
  conversationId: string;
  messageId: string;
  /** Citations the answer holds before any tool runs (a grounded answer's passages). */
  citationOffset: number;
  /** Where the answer's text and tool activity go: the answer's output gate (src/answers/OutputGate.ts). */
  output: AnswerOutput;
}

/** What the loop writes to: tokens and tool activity, straight on to the relay. */
export interface AnswerOutput {
  /**
   * Resolves once output may leave (the answer is marked `streaming`); false: it must not, and the
   * loop ends as aborted. Tools never run before it resolves true: a tool event is output.
   */
  readonly allowed: Promise<boolean>;
  /** A token of answer text, from whichever step the model writes it in. */
  token(delta: string): void;
  /** A call started or ended. */
  tool(activity: ToolActivity): void;
}

export interface ToolLoopResult {
  /** The model of the last step. */
  model: string;
  /** Summed over the steps; null when a step did not report usage. */
  usage: GenerationResult['usage'];
  finishReason: string | null;
  aborted: boolean;
  /** Passages the tools found, numbered after `citationOffset`. */
  citations: Citation[];
  /** Model calls made. */
  steps: number;
  /** Time spent running tools (the steps' tool calls, each step's slowest): not model streaming. */
  toolMs: number;
}

/**
 * The chat worker's tool loop: call the model with the tools; when it asks for some, run them
 * (in parallel, each with a timeout and the answer's signal), give it their results and call again;
 * after `maxToolSteps` rounds, one last call without tools makes it answer. Whatever goes wrong in
 * a tool (unknown name, bad JSON, invalid arguments, an error, a timeout) becomes that call's
 * result, "error: …", for the model to deal with: it never fails the answer.
 *
 * Text the model writes in a step that also calls tools ("Let me look that up") is streamed as
 * part of the answer, like the final step's: the user sees it as it comes, and the stored answer
 * is exactly what streamed. Steps' texts are joined with a blank line.
 */
export class ToolLoop {
  private readonly em: () => EntityManager;
  private readonly logger: Logger;
  private readonly options: ToolLoopOptions;

  constructor(deps: {
    em: () => EntityManager;
    logger: Logger;
    options?: Partial<ToolLoopOptions>;
  }) {
    this.em = deps.em;
    this.logger = deps.logger;
    this.options = { ...DEFAULT_TOOL_LOOP_OPTIONS, ...deps.options };
  }

  async run(request: ToolLoopRequest): Promise<ToolLoopResult> {
    const byName = new Map(request.tools.map((tool) => [tool.name, tool]));
    const specs: ToolSpec[] = [...byName.values()].map(({ name, description, parameters }) => ({
      name,
      description,
      parameters,
    }));
    const redactor = (request.redactor ?? Redactor.none).with(...request.tools.map((tool) => tool.redactor));
    const messages = [...request.messages];
    const citations: Citation[] = [];
    let usage: GenerationResult['usage'] = { promptTokens: 0, completionTokens: 0 };
    let written = '';
    let steps = 0;
    let toolMs = 0;
    /** Set when the model's tool calls proved unusable: no more tools for this answer. */
    let withdrawn = false;
    const text = (delta: string) => {
      written += delta;
      request.output.token(delta);
    };

    for (;;) {
      let offering = !withdrawn && specs.length > 0 && steps < request.maxToolSteps;
      let stepText = '';
      let separated = written === '';
      const call = (tools: ToolSpec[] | undefined) =>
        request.models.stream(
          {
            messages,
            temperature: request.temperature,
            maxTokens: request.maxTokens,
            tools,
            signal: request.signal,
          },
          (delta) => {
            // A new step's text starts a new paragraph after an earlier step's.
            if (!separated && delta) {
              separated = true;
              if (!/\s$/.test(written)) text('\n\n');
            }
            stepText += delta;
            text(delta);
          },
        );
      let result: GenerationResult;
      try {
        result = await call(offering ? specs : undefined);
      } catch (error) {
        // The model wrote a tool call the service could not parse (refused before any text): the
        // same step without tools makes it answer with what it has, instead of failing the answer.
        if (!(offering && stepText === '' && error instanceof LlmError && error.code === 'tool_use_failed'))
          throw error;
        this.logger.warn({ step: steps + 1 }, 'the model wrote an unusable tool call; asking without tools');
        steps += 1;
        withdrawn = true;
        offering = false;
        result = await call(undefined);
      }
      steps += 1;
      usage =
        usage && result.usage
          ? {
              promptTokens: usage.promptTokens + result.usage.promptTokens,
              completionTokens: usage.completionTokens + result.usage.completionTokens,
            }
          : null;
      const calls = offering ? result.toolCalls : [];
      const end = (aborted: boolean): ToolLoopResult => ({
        model: result.model,
        usage,
        finishReason: result.finishReason,
        aborted,
        citations,
        steps,
        toolMs: Math.round(toolMs),
      });
      if (result.aborted) return end(true);
      if (calls.length === 0) return end(false);

      // Tool events are output: none leaves (and no tool runs) before the answer is `streaming`.
      if (!(await request.output.allowed) || request.signal.aborted) return end(true);
      const toolsStartedAt = performance.now();
      const outcomes = await Promise.all(
        calls.map((call) => this.call(call, byName.get(call.name), request, citations.length, redactor)),
      );
      toolMs += performance.now() - toolsStartedAt;
      if (request.signal.aborted) return end(true);
      messages.push({ role: 'assistant', content: stepText, toolCalls: calls });
      outcomes.forEach((outcome, index) => {
        for (const citation of outcome.citations ?? []) citations.push(citation);
        messages.push({ role: 'tool', toolCallId: calls[index]!.id, content: outcome.content });
      });
    }
  }

  /**
   * Runs one call and tells its start and end; never throws: a failure is the model's to read.
   * Every text of the tool's (its result, summary, error) is redacted before it goes anywhere.
   */
  private async call(
    call: ToolCallRequest,
    tool: Tool | undefined,
    request: ToolLoopRequest,
    citationsBefore: number,
    redactor: Redactor,
  ): Promise<Pick<ToolOutcome, 'content' | 'citations'>> {
    const shown = {
      callId: call.id,
      name: call.name,
      arguments: cap(redactor.redact(call.arguments), MAX_SHOWN_ARGUMENT_CHARS),
    };
    request.output.tool({ ...shown, status: 'running' });
    const startedAt = performance.now();
    const ended = (status: 'complete' | 'error', summary: string) =>
      request.output.tool({
        ...shown,
        status,
        summary: cap(redactor.redact(summary), MAX_SUMMARY_CHARS),
        durationMs: Math.round(performance.now() - startedAt),
      });
    const failed = (reason: string, summary = reason) => {
      ended('error', summary);
      return { content: `error: ${redactor.redact(reason)}` };
    };

    if (!tool) return failed(`unknown tool "${call.name}"; use one of the tools offered`);
    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return failed('the arguments are not valid JSON');
    }
    const timeoutMs = tool.timeoutMs ?? this.options.defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([request.signal, timeout]);
    try {
      const outcome = await untilAborted(
        tool.execute(args, {
          userId: request.userId,
          conversationId: request.conversationId,
          messageId: request.messageId,
          signal,
          em: this.em(),
          citationOffset: request.citationOffset + citationsBefore,
        }),
        signal,
      );
      ended('complete', outcome.summary);
      return {
        content: cap(redactor.redact(outcome.content), this.options.maxResultChars),
        citations: outcome.citations,
      };
    } catch (error) {
      if (request.signal.aborted) return failed('cancelled');
      if (timeout.aborted) return failed(`timed out after ${timeoutMs} ms`);
      if (error instanceof ToolInputError) return failed(`invalid arguments: ${error.message}`);
      // The model reads the detail (it may help it retry); people see only that it failed.
      const detail = redactor.redact(String((error as Error)?.message ?? error));
      this.logger.warn({ tool: call.name, err: detail }, 'tool failed');
      return failed(`the tool failed: ${detail}`, 'the tool failed');
    }
  }
}

/** The tool's promise, or a rejection as soon as the signal aborts (a tool may ignore it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // a late failure after the abort is nobody's to handle
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const cap = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max)}… [cut: ${text.length - max} more characters]`;
