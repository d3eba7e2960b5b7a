import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import type {
  AckError,
  ChatDone,
  ChatErrorEvent,
  ChatSendResult,
  ChatToken,
  ClientToServerEvents,
  ServerToClientEvents,
} from '../../src/relay/events.ts';

type RelaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What one client saw of one answer, timestamped with performance.now() as each event arrived. */
export class StreamRecord {
  /** The stream's index in its run, once chat:send was acked (-1 until then). */
  index = -1;
  /** The assistant message id (the pipeline's chat job id). */
  messageId = '';
  content = '';
  sendAt = 0;
  ackAt = 0;
  /** First and last chat:token. */
  firstAt = 0;
  lastAt = 0;
  /** Stub tokens the first batch held. */
  firstBatchTokens = 0;
  chars = 0;
  batches = 0;
  lastSeq = 0;
  /** chat:token events whose seq was not the previous one + 1. */
  seqErrors = 0;
  /** Events after chat:done / chat:error. */
  lateEvents = 0;
  text = '';
  /** Per batch: arrival time and the number of stub tokens received so far (the last one's number). */
  batchAt: Float64Array;
  batchTokens: Int32Array;
  /** chat:done or chat:error. */
  endedAt = 0;
  doneContent: string | undefined;
  error: string | undefined;
  readonly tokenWidth: number;

  constructor(capacity: number, tokenWidth: number) {
    this.batchAt = new Float64Array(capacity);
    this.batchTokens = new Int32Array(capacity);
    this.tokenWidth = tokenWidth;
  }

  get tokens(): number {
    return Math.floor(this.chars / this.tokenWidth);
  }

  token(event: ChatToken, now: number): void {
    if (this.endedAt) {
      this.lateEvents += 1;
      return;
    }
    if (event.seq !== this.lastSeq + 1) this.seqErrors += 1;
    this.lastSeq = event.seq;
    this.chars += event.delta.length;
    this.text += event.delta;
    const tokens = this.tokens;
    if (this.batches === 0) {
      this.firstAt = now;
      this.firstBatchTokens = tokens;
    }
    this.lastAt = now;
    if (this.batches === this.batchAt.length) this.grow();
    this.batchAt[this.batches] = now;
    this.batchTokens[this.batches] = tokens;
    this.batches += 1;
  }

  private grow(): void {
    const at = new Float64Array(this.batchAt.length * 2);
    at.set(this.batchAt);
    this.batchAt = at;
    const tokens = new Int32Array(this.batchTokens.length * 2);
    tokens.set(this.batchTokens);
    this.batchTokens = tokens;
  }
}

/**
 * One run's recording, shared by all clients: answers by message id (an answer's events may beat
 * its chat:send ack), streams by index once acked. `finished` resolves when every stream sent has
 * ended (done, error, or refused).
 */
export class RunRecorder {
  readonly byMessage = new Map<string, StreamRecord>();
  readonly streams: (StreamRecord | undefined)[];
  readonly refusals: string[] = [];
  /** Arrivals not sent because the concurrency cap was reached (open-loop runs). */
  shed = 0;
  disconnects = 0;
  readonly finished: Promise<void>;
  private readonly capacity: number;
  private readonly tokenWidth: number;
  private settled = 0;
  private resolve!: () => void;

  constructor(count: number, capacity: number, tokenWidth: number) {
    this.streams = new Array(count).fill(undefined);
    this.capacity = capacity;
    this.tokenWidth = tokenWidth;
    this.finished = new Promise((resolve) => {
      this.resolve = resolve;
    });
    if (count === 0) this.resolve();
  }

  get ended(): number {
    return this.settled;
  }

  record(messageId: string): StreamRecord {
    let record = this.byMessage.get(messageId);
    if (!record) {
      record = new StreamRecord(this.capacity, this.tokenWidth);
      record.messageId = messageId;
      this.byMessage.set(messageId, record);
    }
    return record;
  }

  token(event: ChatToken, now: number): void {
    this.record(event.messageId).token(event, now);
  }

  done(event: ChatDone, now: number): void {
    const record = this.record(event.messageId);
    if (record.endedAt) return;
    record.endedAt = now;
    record.doneContent = event.content;
    if (event.status && event.status !== 'complete') record.error = `done with status ${event.status}`;
    if (record.index >= 0) this.settle();
  }

  error(event: ChatErrorEvent, now: number): void {
    const record = this.record(event.messageId);
    if (record.endedAt) return;
    record.endedAt = now;
    record.error = `chat:error ${event.code}: ${event.message}`;
    if (record.index >= 0) this.settle();
  }

  ack(
    index: number,
    content: string,
    sendAt: number,
    error: AckError | null,
    result: ChatSendResult | undefined,
    now: number,
  ): void {
    if (error || !result) {
      this.refusals.push(error ? `${error.code}: ${error.message}` : 'empty ack');
      this.settle();
      return;
    }
    const record = this.record(result.assistantMessageId);
    record.index = index;
    record.content = content;
    record.sendAt = sendAt;
    record.ackAt = now;
    this.streams[index] = record;
    if (record.endedAt) this.settle();
  }

  /** Stream `index` will not be sent (open loop, over the cap): it counts as ended. */
  skip(): void {
    this.shed += 1;
    this.settle();
  }

  /** Resolves once `count` streams have ended (done, error, refused or skipped). */
  endedAtLeast(count: number): Promise<void> {
    if (this.settled >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private settle(): void {
    this.settled += 1;
    if (this.settled === this.streams.length) this.resolve();
    for (let index = this.waiters.length - 1; index >= 0; index--) {
      const waiter = this.waiters[index]!;
      if (this.settled >= waiter.count) {
        this.waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}

/** One Socket.IO connection of one user, feeding whichever run is current. */
export class RelayClient {
  readonly socket: RelaySocket;
  recorder: RunRecorder | undefined;

  private constructor(socket: RelaySocket) {
    this.socket = socket;
    socket.on('chat:token', (event) => this.recorder?.token(event, performance.now()));
    socket.on('chat:done', (event) => this.recorder?.done(event, performance.now()));
    socket.on('chat:error', (event) => this.recorder?.error(event, performance.now()));
    socket.on('disconnect', () => {
      if (this.recorder) this.recorder.disconnects += 1;
    });
  }

  static async connect(url: string, token: string): Promise<RelayClient> {
    const socket: RelaySocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new RelayClient(socket);
  }

  /** Emits chat:send for stream `index` of the current run, stamping the send and the ack. */
  send(index: number, content: string, conversationId?: string): void {
    const recorder = this.recorder!;
    const payload = conversationId ? { conversationId, content } : { content };
    const sendAt = performance.now();
    this.socket.emit('chat:send', payload, (error: AckError | null, result?: ChatSendResult) =>
      recorder.ack(index, content, sendAt, error, result, performance.now()),
    );
  }

  close(): void {
    this.recorder = undefined;
    this.socket.disconnect();
  }
}
