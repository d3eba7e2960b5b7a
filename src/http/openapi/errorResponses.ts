import type { Operation } from './operations.ts';

/**
 * The error statuses an operation answers, with a description each. The generic ones follow from
 * the operation's shape, so a new route documents them without anyone remembering to: input → 400,
 * a body → 413/415, a token → 401 (an admin's → 403), a path id → 404, a rate limit → 429. The
 * operation's own `errors` add the specific ones (409 on a duplicate…) and may drop a derived one.
 */
export function errorResponses(operation: Operation): Record<string, string> {
  const errors: Record<string, string> = {};
  if (operation.params || operation.query || operation.body)
    errors['400'] = 'Invalid input: `errors` lists each field';
  if (operation.body) {
    const multipart = operation.consumes === 'multipart/form-data';
    errors['413'] = multipart
      ? 'The file is larger than MAX_UPLOAD_BYTES'
      : 'The JSON body is larger than MAX_JSON_BYTES';
    errors['415'] = multipart
      ? 'Not multipart, or a file that is not PDF, plain text or Markdown (text in UTF-8, UTF-16 with a byte-order mark or Windows-1252; `looksLike` says what the file seems to be)'
      : 'The body is not application/json';
  }
  if (operation.auth) errors['401'] = 'Missing, invalid or expired token';
  if (operation.auth === 'admin') errors['403'] = 'Not an administrator';
  if (operation.params) errors['404'] = 'No such resource (or another user’s)';
  if (operation.rateLimited) errors['429'] = 'Rate limited; see Retry-After';
  for (const [status, description] of Object.entries(operation.errors ?? {})) {
    if (description === null) delete errors[status];
    else errors[status] = description;
  }
  return errors;
}
