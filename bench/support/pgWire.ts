import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One client→server round trip seen on the wire: a simple Query ('Q') or an extended-protocol Sync ('S'). */
export interface RoundTrip {
  /** performance.now() when the message passed the proxy. */
  at: number;
  kind: 'Q' | 'S';
  /** The SQL of the Query, or of the last Parse before the Sync ('' for a prepared statement reused). */
  sql: string;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/**
 * A TCP proxy in front of Postgres that counts the round trips its clients make, by reading the
 * frontend side of the wire protocol: after the startup message, every message is a type byte and
 * a length. A client that is not pipelining (node-postgres never does) waits for the server after
 * each Query ('Q') or Sync ('S') — so those two are exactly its round trips. The SQL comes from the
 * Query message or from the Parse ('P') messages before the Sync. Counted, not estimated, and
 * independent of any logging in the application.
 */
export class PgRoundTripCounter {
  readonly trips: RoundTrip[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const parse = this.parser();
      client.on('data', (chunk: Buffer) => parse(chunk));
      client.pipe(upstream).pipe(client);
    });
  }

  static async start(targetUrl: string): Promise<PgRoundTripCounter> {
    const target = new URL(targetUrl);
    const counter = new PgRoundTripCounter(target.hostname, Number(target.port || 5432));
    await new Promise<void>((listening) => counter.server.listen(0, '127.0.0.1', listening));
    counter.port = (counter.server.address() as AddressInfo).port;
    return counter;
  }

  /** `url` pointed at this proxy. */
  rewrite(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Round trips with from ≤ at ≤ to (performance.now()). */
  between(from: number, to: number): RoundTrip[] {
    return this.trips.filter((trip) => trip.at >= from && trip.at <= to);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** A stateful reader of one connection's frontend messages. */
  private parser(): (chunk: Buffer) => void {
    let buffer: Buffer = Buffer.alloc(0);
    let startup = true;
    let pendingSql = '';
    return (chunk) => {
      const now = performance.now();
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (startup) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
          buffer = buffer.subarray(length);
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0]!);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        if (type === 'Q') {
          this.trips.push({ at: now, kind: 'Q', sql: cString(body, 0) });
        } else if (type === 'P') {
          const nameEnd = body.indexOf(0);
          pendingSql = cString(body, nameEnd + 1);
        } else if (type === 'S') {
          this.trips.push({ at: now, kind: 'S', sql: pendingSql });
          pendingSql = '';
        }
        buffer = buffer.subarray(1 + length);
      }
    };
  }
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString('utf8', start, end < 0 ? buffer.length : end);
}
