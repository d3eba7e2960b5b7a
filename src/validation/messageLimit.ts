/**
 * The longest a chat message's content may be, in UTF-16 code units (JavaScript's `length`),
 * counted after trimming. Why a module of its own: the web client shows the same limit in its
 * composer, and must import it without pulling in the server's validation (zod, entities).
 */
export const MAX_MESSAGE_CHARS = 32_000;
