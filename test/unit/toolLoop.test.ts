import type { EntityManager } from '@mikro-orm/core';
import { expect } from 'chai';
import { z } from 'zod';
import { type ToolActivity, ToolLoop, type ToolLoopRequest } from '../../src/answers/ToolLoop.ts';
import type { GenerationRequest, GenerationResult, LlmProvider } from '../../src/llm/LlmProvider.ts';
import { createLogger } from '../../src/logger.ts';
import { defineTool } from '../../src/tools/defineTool.ts';
import type { Tool } from '../../src/tools/Tool.ts';

/** A model scripted step by step (the loop's own logic; the wire is covered by the e2e tests). */
class ScriptedModel implements LlmProvider {
  readonly name = 'groq' as const;
  readonly requests: GenerationRequest[] = [];
  private readonly steps: Array<{ text?: string[]; calls?: Array<{ name: string; arguments: string }> }>;
  constructor(steps: Array<{ text?: string[]; calls?: Array<{ name: string; arguments: string }> }>) {
    this.steps = steps;
  }

  async stream(request: GenerationRequest, onToken: (delta: string) => void): Promise<GenerationResult> {
    this.requests.push({ ...request, messages: [...request.messages] });
    const step = this.steps[this.requests.length - 1] ?? { text: ['fallback'] };
    for (const token of step.text ?? []) onToken(token);
    return {
      model: 'scripted',
      usage: { promptTokens: 10, completionTokens: 2 },
      finishReason: step.calls ? 'tool_calls' : 'stop',
      aborted: false,
      toolCalls: (step.calls ?? []).map((call, index) => ({
        id: `c${this.requests.length}_${index}`,
        ...call,
      })),
    };
  }
  complete(): Promise<string> {
    throw new Error('not used');
  }
  async probe() {}
}

const never: Tool = {
  name: 'never',
  description: 'Never answers.',
  parameters: { type: 'object' },
  timeoutMs: 30,
  execute: () => new Promise(() => {}),
};
const huge = defineTool({
  name: 'huge',
  description: 'A long result.',
  input: z.object({ size: z.number().int() }).strict(),
  execute: async ({ size }) => ({ content: 'x'.repeat(size), summary: `${size} characters` }),
});

function request(tools: Tool[], overrides: Partial<ToolLoopRequest> = {}) {
  const activity: ToolActivity[] = [];
  let text = '';
  const loopRequest: Omit<ToolLoopRequest, 'models'> = {
    messages: [{ role: 'user', content: 'hi' }],
    temperature: 0,
    maxTokens: 100,
    tools,
    maxToolSteps: 4,
    signal: new AbortController().signal,
    userId: 'u',
    conversationId: 'c',
    messageId: 'm',
    citationOffset: 0,
    output: {
      allowed: Promise.resolve(true),
      token: (delta) => {
        text += delta;
      },
      tool: (event) => activity.push(event),
    },
    ...overrides,
  };
  return { loopRequest, activity, text: () => text };
}

const loopWith = (model: LlmProvider, maxResultChars = 100) => {
  const loop = new ToolLoop({
    em: () => ({}) as EntityManager,
    logger: createLogger('silent'),
    options: { maxResultChars },
  });
  return {
    run: (loopRequest: Omit<ToolLoopRequest, 'models'>) => loop.run({ ...loopRequest, models: model }),
  };
};

describe('ToolLoop', () => {
  it('times a tool out: the model reads the timeout as the result and answers', async () => {
    const model = new ScriptedModel([{ calls: [{ name: 'never', arguments: '{}' }] }, { text: ['ok'] }]);
    const { loopRequest, activity } = request([never]);
    const result = await loopWith(model).run(loopRequest);
    expect(result.aborted).to.equal(false);
    const toolMessage = model.requests[1]!.messages.at(-1)!;
    expect(toolMessage).to.deep.equal({
      role: 'tool',
      toolCallId: 'c1_0',
      content: 'error: timed out after 30 ms',
    });
    expect(activity.map((event) => event.status)).to.deep.equal(['running', 'error']);
  });

  it('caps a long result, sums usage over the steps and joins the steps’ text with a blank line', async () => {
    const model = new ScriptedModel([
      { text: ['Let me see.'], calls: [{ name: 'huge', arguments: '{"size": 500}' }] },
      { text: ['Done.'] },
    ]);
    const { loopRequest, text } = request([huge]);
    const result = await loopWith(model).run(loopRequest);
    const content = String(model.requests[1]!.messages.at(-1)!.content);
    expect(content).to.equal(`${'x'.repeat(100)}… [cut: 400 more characters]`);
    expect(result.usage).to.deep.equal({ promptTokens: 20, completionTokens: 4 });
    expect(result.steps).to.equal(2);
    expect(text()).to.equal('Let me see.\n\nDone.');
    // The model's turn that asked for the tool is in the next request, with its text.
    expect(model.requests[1]!.messages.at(-2)).to.deep.include({ role: 'assistant', content: 'Let me see.' });
  });

  it('runs no tool and sends no event when output is not allowed (the answer could not start)', async () => {
    const model = new ScriptedModel([{ calls: [{ name: 'huge', arguments: '{"size": 1}' }] }]);
    const { loopRequest, activity } = request([huge]);
    loopRequest.output = { ...loopRequest.output, allowed: Promise.resolve(false) };
    const result = await loopWith(model).run(loopRequest);
    expect(result.aborted).to.equal(true);
    expect(activity).to.deep.equal([]);
    expect(model.requests).to.have.length(1);
  });

  it('offers JSON Schema derived from the zod input', () => {
    expect(huge.parameters).to.deep.include({
      type: 'object',
      required: ['size'],
      additionalProperties: false,
    });
    expect(huge.parameters).not.to.have.property('$schema');
  });
});
