import {
  createMcpServerSchema,
  listMcpServersQuery,
  mcpServerIdParams,
  updateMcpServerSchema,
} from '../routes/admin/mcpServersSchema.ts';

const PRESENTED =
  'The server: `{ id, name, url, headerNames, enabledTools, enabled, timeoutMs, createdAt, updatedAt }` (header values are write-only: never returned)';
const NAME_TAKEN = 'Another MCP server has this name';

/**
 * The admin MCP server operations (routes: src/http/routes/admin/mcpServers.ts), spread into
 * OPERATIONS (typed there: importing its type here would make an import cycle).
 */
export const MCP_SERVER_OPERATIONS = [
  {
    method: 'get',
    path: '/api/v1/admin/mcp-servers',
    tag: 'admin',
    summary: 'Registered MCP servers, oldest first',
    auth: 'admin',
    query: listMcpServersQuery,
    responses: { 200: '{ items, nextCursor }' },
  },
  {
    method: 'post',
    path: '/api/v1/admin/mcp-servers',
    tag: 'admin',
    summary: 'Register an MCP server (Streamable HTTP) whose tools the model may call',
    description:
      'Its tools are offered as `<name>__<tool>`. `headers` (e.g. `Authorization`) are sent on every request to the server; they are stored sealed and are write-only. `enabledTools` lists the server’s own tool names to offer (null or absent: all). Nothing is contacted here: `POST …/{id}/refresh` lists the tools now.',
    auth: 'admin',
    body: createMcpServerSchema,
    example: {
      name: 'shop',
      url: 'https://mcp.example.com/mcp',
      headers: { Authorization: 'Bearer example-token' },
      enabledTools: null,
    },
    responses: { 201: PRESENTED },
    errors: { 409: NAME_TAKEN },
  },
  {
    method: 'get',
    path: '/api/v1/admin/mcp-servers/{id}',
    tag: 'admin',
    summary: 'One MCP server (header names, never values)',
    auth: 'admin',
    params: mcpServerIdParams,
    responses: { 200: PRESENTED },
  },
  {
    method: 'patch',
    path: '/api/v1/admin/mcp-servers/{id}',
    tag: 'admin',
    summary: 'Change an MCP server; workers apply it on their next answer',
    description:
      '`headers` replaces every header (`{}` or null removes them); absent, they stay as they are.',
    auth: 'admin',
    params: mcpServerIdParams,
    body: updateMcpServerSchema,
    example: { enabledTools: ['lookup_order'] },
    responses: { 200: PRESENTED },
    errors: { 409: NAME_TAKEN },
  },
  {
    method: 'delete',
    path: '/api/v1/admin/mcp-servers/{id}',
    tag: 'admin',
    summary: 'Remove an MCP server; its tools are no longer offered',
    auth: 'admin',
    params: mcpServerIdParams,
    responses: { 204: 'Removed' },
  },
  {
    method: 'post',
    path: '/api/v1/admin/mcp-servers/{id}/refresh',
    tag: 'admin',
    summary: 'List the server’s tools now, and have every worker list them again',
    description:
      'Answers 200 whether or not the server answered: `{ reachable, error?, latencyMs, checkedAt, tools: [{ name, exposedName, description, enabled }] }`. The result also becomes the server’s entry in `/health/ready`.',
    auth: 'admin',
    params: mcpServerIdParams,
    responses: { 200: '{ reachable, error?, latencyMs, checkedAt, tools }' },
  },
] as const;
