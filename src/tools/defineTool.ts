import { z } from 'zod';
import { type Tool, type ToolContext, ToolInputError, type ToolOutcome } from './Tool.ts';

export interface ToolDefinition<Input extends z.ZodType> {
  name: string;
  /** What the model reads to decide when to call it: say what it does and returns. */
  description: string;
  /** The arguments: validated before `execute`, and shown to the model as JSON Schema. */
  input: Input;
  timeoutMs?: number;
  execute(args: z.output<Input>, context: ToolContext): Promise<ToolOutcome>;
}

/**
 * A built-in tool from a zod schema: the model sees the schema as JSON Schema, and arguments that
 * don't fit it never reach `execute` — they become a ToolInputError whose message (which field,
 * what is wrong) goes back to the model to correct.
 */
export function defineTool<Input extends z.ZodType>(definition: ToolDefinition<Input>): Tool {
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(definition.input, { io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    name: definition.name,
    description: definition.description,
    parameters,
    timeoutMs: definition.timeoutMs,
    execute: async (args, context) => {
      const parsed = definition.input.safeParse(args);
      if (!parsed.success) throw new ToolInputError(z.prettifyError(parsed.error));
      return definition.execute(parsed.data, context);
    },
  };
}
