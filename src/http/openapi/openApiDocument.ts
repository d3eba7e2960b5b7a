import { z } from 'zod';
import { errorResponses } from './errorResponses.ts';
import { EXAMPLE_ID, OPERATIONS, type Operation } from './operations.ts';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType): JsonSchema => {
  // Request schemas describe what clients send: the input side of coercions and defaults.
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return json;
};

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (status: string, description: string) => ({
  description,
  ...(status === '429'
    ? {
        headers: {
          'Retry-After': { description: 'Seconds until a retry can pass', schema: { type: 'integer' } },
        },
      }
    : {}),
  content: { 'application/problem+json': { schema: problem } },
});

function parameters(operation: Operation) {
  const list: Record<string, unknown>[] = [];
  for (const [where, schema] of [
    ['path', operation.params],
    ['query', operation.query],
    ['header', operation.headers],
  ] as const) {
    if (!schema) continue;
    const json = toSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      // Path parameters get a valid example, so "Try it out" sends a request that passes validation.
      const example =
        where === 'path'
          ? (operation.paramExamples?.[name] ?? (property.format === 'uuid' ? EXAMPLE_ID : undefined))
          : undefined;
      list.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: property,
        ...(example === undefined ? {} : { example }),
      });
    }
  }
  return list;
}

function toOperation(operation: Operation) {
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(operation.responses)) {
    responses[status] =
      status === '204'
        ? { description }
        : { description, content: { [operation.produces ?? 'application/json']: { schema: {} } } };
  }
  for (const [status, description] of Object.entries(errorResponses(operation)))
    responses[status] = problemResponse(status, description);
  return {
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    operationId: `${operation.method}${operation.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    ...(operation.auth
      ? { security: [{ [operation.auth === 'metrics' ? 'metricsToken' : 'bearer']: [] }] }
      : {}),
    ...(parameters(operation).length ? { parameters: parameters(operation) } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: {
              [operation.consumes ?? 'application/json']: {
                schema: toSchema(operation.body),
                ...(operation.example === undefined ? {} : { example: operation.example }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document, generated from the operation catalog and its zod schemas. */
export function buildOpenApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = toOperation(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley',
      version,
      description:
        'Chat backend: REST under /api/v1, tokens over Socket.IO (see docs/realtime.md) or Server-Sent Events. Errors are RFC 9457 problem+json.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        metricsToken: { type: 'http', scheme: 'bearer' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
            requestId: { type: 'string' },
          },
        },
      },
    },
  };
}
