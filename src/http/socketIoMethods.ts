import type { IncomingMessage, ServerResponse } from 'node:http';
import { Problem } from './problem.ts';

/** What engine.io's transports use: polling GET and POST, and GET for WebSocket upgrades. */
const TRANSPORT_METHODS = ['GET', 'POST'];
const ALLOW = [...TRANSPORT_METHODS, 'OPTIONS'].join(', ');

/**
 * An engine.io middleware (`io.engine.use`) for the HTTP side of Socket.IO's path. engine.io
 * answers any other method on a live polling session with a bare 500, so answer them first:
 * OPTIONS (a preflight the CORS middleware before this one did not take: no allowed origin) gets
 * 204 with Allow, anything else 405 problem+json, as the REST API answers.
 */
export function refuseOtherTransportMethods(
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const method = request.method ?? '';
  if (TRANSPORT_METHODS.includes(method)) {
    next();
    return;
  }
  if (method === 'OPTIONS') {
    response.writeHead(204, { Allow: ALLOW });
    response.end();
    return;
  }
  const problem = new Problem(405, 'method_not_allowed', `${method} is not a Socket.IO transport method.`);
  response.writeHead(405, { Allow: ALLOW, 'Content-Type': 'application/problem+json' });
  response.end(JSON.stringify(problem.toBody()));
}
