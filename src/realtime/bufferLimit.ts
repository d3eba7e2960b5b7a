/**
 * The largest single Socket.IO message (one WebSocket frame, or one long-polling POST) an edge
 * reads, in bytes: engine.io's `maxHttpBufferSize`, set explicitly so the limit is ours to name.
 *
 * Why 1 MB: the largest valid `chat:send` is far below it (32,000 characters of content, even
 * JSON-escaped at 6 bytes each, is under 200 KB), so every over-long message up to this size is
 * parsed and refused with a `validation_failed` ack on a connection that stays open. Beyond it
 * engine.io does not read the message at all: it closes that one connection (WebSocket close
 * 1009, or HTTP 413 on polling) and the edge carries on serving every other socket. A buffer
 * limit is what keeps one client from making an edge hold arbitrarily large messages in memory.
 */
export const SOCKET_MAX_BUFFER_BYTES = 1_000_000;
