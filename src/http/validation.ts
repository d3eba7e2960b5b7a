import type { Context } from 'koa';
import type { z } from 'zod';
import { type FieldError, validationFailed } from './problem.ts';

/**
 * Parses one part of a request with its zod schema, or answers 400 with one error per field
 * (unknown fields included). Handlers get typed input and never see what failed validation.
 */
export function parseInput<Schema extends z.ZodType>(
  part: 'body' | 'query' | 'params',
  schema: Schema,
  value: unknown,
): z.infer<Schema> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw validationFailed(parsed.error.issues.flatMap((issue) => toFieldErrors(part, issue)));
}

export const parseBody = <Schema extends z.ZodType>(ctx: Context, schema: Schema) =>
  parseInput('body', schema, (ctx.request as { body?: unknown }).body);
export const parseQuery = <Schema extends z.ZodType>(ctx: Context, schema: Schema) =>
  parseInput('query', schema, ctx.query);
/** `ctx.params` as the router matched them. */
export const parseParams = <Schema extends z.ZodType>(ctx: { params?: unknown }, schema: Schema) =>
  parseInput('params', schema, ctx.params);

function toFieldErrors(part: string, issue: z.core.$ZodIssue): FieldError[] {
  const at = (path: PropertyKey[]) => [part, ...path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: at([...issue.path, key]), message: 'is not a known field' }));
  }
  return [{ path: at(issue.path), message: issue.message }];
}
