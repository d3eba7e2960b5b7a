import { once } from 'node:events';
import type pg from 'pg';

/** The parts of pg's (untyped) connection the COPY sub-protocol uses. */
type CopyConnection = pg.Connection & {
  sendCopyFromChunk(chunk: Uint8Array): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
};

/**
 * `COPY … FROM STDIN` through pg's Submittable interface (pg has no COPY API of its own and the
 * project has no pg-copy-streams): sends `chunks` as CopyData messages, waiting for the socket to
 * drain, and resolves with the number of rows the server reports. A chunk source that throws
 * aborts the COPY (CopyFail), so nothing is half-loaded.
 */
export function copyIn(client: pg.Client, sql: string, chunks: Iterable<Uint8Array>): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let failure: Error | undefined;
    const submittable = {
      submit(connection: pg.Connection) {
        connection.query(sql);
      },
      handleCopyInResponse(connection: CopyConnection) {
        void (async () => {
          try {
            for (const chunk of chunks) {
              connection.sendCopyFromChunk(chunk);
              if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
            }
            connection.endCopyFrom();
          } catch (error) {
            failure = error as Error;
            connection.sendCopyFail(`the benchmark's data source failed: ${failure.message}`);
          }
        })();
      },
      handleCommandComplete(message: { text?: string }) {
        rows = Number(/^COPY (\d+)/.exec(message.text ?? '')?.[1] ?? 0);
      },
      handleError(error: Error) {
        failure ??= error;
      },
      handleReadyForQuery() {
        if (failure) reject(failure);
        else resolve(rows);
      },
      // Not sent during COPY FROM; present because pg may call them on any active query.
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyData() {},
    };
    client.query(submittable as unknown as pg.Submittable);
  });
}

/**
 * Builds the binary COPY format (header, tuples, trailer) into buffers of about `chunkBytes`.
 * Field writers append to the current tuple; `endTuple` closes it.
 */
export class BinaryCopyWriter {
  private buffer: Buffer;
  private offset = 0;
  private readonly chunkBytes: number;

  constructor(chunkBytes = 1 << 20) {
    this.chunkBytes = chunkBytes;
    this.buffer = Buffer.allocUnsafe(chunkBytes + 64 * 1024);
    this.buffer.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
    this.offset = 11;
    this.int32(0); // flags
    this.int32(0); // header extension length
  }

  /** Starts a tuple of `fields` fields. */
  tuple(fields: number): void {
    this.ensure(2);
    this.buffer.writeInt16BE(fields, this.offset);
    this.offset += 2;
  }

  uuid(value: string): void {
    this.ensure(20);
    this.int32(16);
    this.buffer.write(value.replaceAll('-', ''), this.offset, 'hex');
    this.offset += 16;
  }

  int4(value: number | null): void {
    this.ensure(8);
    if (value === null) {
      this.int32(-1);
      return;
    }
    this.int32(4);
    this.int32(value);
  }

  text(value: string): void {
    const length = Buffer.byteLength(value);
    this.ensure(4 + length);
    this.int32(length);
    this.buffer.write(value, this.offset, 'utf8');
    this.offset += length;
  }

  /** pgvector's binary form: int16 dimensions, int16 unused, float4 × dimensions (big-endian). */
  vector(values: Float32Array): void {
    this.ensure(8 + 4 * values.length);
    this.int32(4 + 4 * values.length);
    this.buffer.writeInt16BE(values.length, this.offset);
    this.buffer.writeInt16BE(0, this.offset + 2);
    this.offset += 4;
    for (const value of values) {
      this.buffer.writeFloatBE(value, this.offset);
      this.offset += 4;
    }
  }

  /** The bytes so far, if at least `chunkBytes` have accumulated (or `force`), else undefined. */
  take(force = false): Buffer | undefined {
    if (this.offset === 0 || (!force && this.offset < this.chunkBytes)) return undefined;
    const chunk = Buffer.from(this.buffer.subarray(0, this.offset));
    this.offset = 0;
    return chunk;
  }

  /** The trailer and whatever is left. */
  finish(): Buffer {
    this.ensure(2);
    this.buffer.writeInt16BE(-1, this.offset);
    this.offset += 2;
    return this.take(true)!;
  }

  private int32(value: number): void {
    this.buffer.writeInt32BE(value, this.offset);
    this.offset += 4;
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(larger, 0, 0, this.offset);
    this.buffer = larger;
  }
}
