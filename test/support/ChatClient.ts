import { io, type Socket } from 'socket.io-client';
import type {
  ChatDone,
  ChatErrorEvent,
  ChatSendResult,
  ChatStarted,
  ChatToken,
  ChatTool,
  DocumentProgress,
} from '../../src/relay/events.ts';
import { emitAck } from './socketAck.ts';

export interface AnswerRecord {
  started: boolean;
  /** Tokens by seq; a seq seen twice (live and replayed) is kept once. */
  tokens: Map<number, string>;
  /** Tool events by seq (they share the answer's seq sequence with tokens). */
  tools: Map<number, ChatTool>;
  duplicates: number;
  done?: ChatDone;
  error?: ChatErrorEvent;
}

/**
 * One Socket.IO tab of a user, recording every chat event per message, with waits on those
 * events (never on time).
 */
export class ChatClient {
  readonly socket: Socket;
  readonly answers = new Map<string, AnswerRecord>();
  readonly conversationUpdates: { conversationId: string; title: string | null }[] = [];
  /** Every document:progress event, in arrival order. */
  readonly documentProgress: DocumentProgress[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('chat:started', (event: ChatStarted) =>
      this.record(event.messageId, (answer) => (answer.started = true)),
    );
    socket.on('chat:token', (event: ChatToken) =>
      this.record(event.messageId, (answer) => {
        if (answer.tokens.has(event.seq)) answer.duplicates += 1;
        else answer.tokens.set(event.seq, event.delta);
      }),
    );
    socket.on('chat:tool', (event: ChatTool) =>
      this.record(event.messageId, (answer) => {
        if (answer.tools.has(event.seq)) answer.duplicates += 1;
        else answer.tools.set(event.seq, event);
      }),
    );
    socket.on('chat:done', (event: ChatDone) =>
      this.record(event.messageId, (answer) => (answer.done = event)),
    );
    socket.on('chat:error', (event: ChatErrorEvent) =>
      this.record(event.messageId, (answer) => (answer.error = event)),
    );
    socket.on('conversation:updated', (event: { conversationId: string; title: string | null }) => {
      this.conversationUpdates.push(event);
      this.notify();
    });
    socket.on('document:progress', (event: DocumentProgress) => {
      this.documentProgress.push(event);
      this.notify();
    });
  }

  static async connect(url: string, token: string): Promise<ChatClient> {
    const socket = io(url, { transports: ['websocket'], reconnection: false, auth: { token } });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new ChatClient(socket);
  }

  async send(payload: Record<string, unknown>): Promise<ChatSendResult> {
    const [error, result] = await emitAck<ChatSendResult>(this.socket, 'chat:send', payload);
    if (error) throw new Error(`chat:send refused: ${error.code} ${error.message}`);
    return result!;
  }

  emit<Result>(event: string, payload: unknown) {
    return emitAck<Result>(this.socket, event, payload);
  }

  answer(messageId: string): AnswerRecord {
    let answer = this.answers.get(messageId);
    if (!answer) {
      answer = { started: false, tokens: new Map(), tools: new Map(), duplicates: 0 };
      this.answers.set(messageId, answer);
    }
    return answer;
  }

  /** The deltas in seq order, and whether seq ran 1..n (tokens and tool events) without a gap. */
  text(messageId: string): { text: string; gapFree: boolean; lastSeq: number } {
    const answer = this.answer(messageId);
    const seqs = [...answer.tokens.keys(), ...answer.tools.keys()].sort((a, b) => a - b);
    return {
      text: seqs.map((seq) => answer.tokens.get(seq) ?? '').join(''),
      gapFree: seqs.every((seq, index) => seq === index + 1),
      lastSeq: seqs.at(-1) ?? 0,
    };
  }

  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  untilEnded(messageId: string): Promise<AnswerRecord> {
    return this.until(() => Boolean(this.answer(messageId).done || this.answer(messageId).error)).then(() =>
      this.answer(messageId),
    );
  }

  /** The answer's stream in seq order: `tool:<name>:<status>` for tool events, the delta for tokens. */
  timeline(messageId: string): string[] {
    const answer = this.answer(messageId);
    return [...answer.tokens.keys(), ...answer.tools.keys()]
      .sort((a, b) => a - b)
      .map((seq) => {
        const tool = answer.tools.get(seq);
        return tool ? `tool:${tool.name}:${tool.status}` : answer.tokens.get(seq)!;
      });
  }

  /** Waits until the answer has a tool event matching `predicate`. */
  untilTool(messageId: string, predicate: (event: ChatTool) => boolean): Promise<ChatTool> {
    const find = () => [...this.answer(messageId).tools.values()].find(predicate);
    return this.until(() => find() !== undefined).then(() => find()!);
  }

  untilTokens(messageId: string, count: number): Promise<void> {
    return this.until(() => this.answer(messageId).tokens.size >= count);
  }

  /** The progress events of one document so far. */
  progressOf(documentId: string): DocumentProgress[] {
    return this.documentProgress.filter((event) => event.documentId === documentId);
  }

  /** Resolves with all of a document's progress events once one says ready or failed. */
  async untilDocumentSettles(documentId: string): Promise<DocumentProgress[]> {
    const settled = () =>
      this.progressOf(documentId).some((event) => ['ready', 'failed'].includes(event.status));
    await this.until(settled);
    return this.progressOf(documentId);
  }

  close(): void {
    this.socket.disconnect();
  }

  private record(messageId: string, change: (answer: AnswerRecord) => void) {
    change(this.answer(messageId));
    this.notify();
  }

  private notify() {
    for (const listener of [...this.listeners]) listener();
  }
}
