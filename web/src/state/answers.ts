import { batch, signal } from '@preact/signals';
import type { Citation, Message, MessageStatus, Usage } from '../api/types.ts';
import { connected, onConnected, onServerEvent, request } from '../realtime/socket.ts';

/**
 * Every assistant answer the page knows, keyed by message id, whether or not its conversation is
 * on screen: tokens may arrive before the REST page that lists the message (another tab sent it).
 *
 * Tokens are applied strictly in `seq` order: a token at or below `applied` is a duplicate
 * (a resume replays what the live room also delivered) and is dropped; one past a gap waits in
 * `early` until the gap is filled. The visible text is published at most once per animation frame.
 */

export interface AnswerFailure {
  code: string;
  message: string;
  retryable: boolean;
}

export interface AnswerDetails {
  model: string | null;
  ttftMs: number | null;
  latencyMs: number | null;
  usage: Usage | null;
}

const TERMINAL: readonly MessageStatus[] = ['complete', 'failed', 'cancelled'];
export const isTerminal = (status: MessageStatus) => TERMINAL.includes(status);

export class Answer {
  readonly id: string;
  readonly conversationId: string;
  readonly status = signal<MessageStatus>('pending');
  /** The text on screen; for a finished answer the stored content. */
  readonly text = signal('');
  readonly failure = signal<AnswerFailure | null>(null);
  readonly citations = signal<Citation[]>([]);
  readonly details = signal<AnswerDetails | null>(null);
  /** Highest seq applied without gaps; `chat:resume` asks for what comes after it. */
  applied = 0;
  buffer = '';
  readonly early = new Map<number, string>();

  constructor(id: string, conversationId: string) {
    this.id = id;
    this.conversationId = conversationId;
  }
}

const answers = new Map<string, Answer>();
/** Answers not ended yet: drives "Writing…" and Stop in whichever view shows their conversation. */
export const activeAnswers = signal<readonly Answer[]>([]);

function publishActive() {
  activeAnswers.value = [...answers.values()].filter((answer) => !isTerminal(answer.status.value));
}

function answerFor(id: string, conversationId: string): Answer {
  let answer = answers.get(id);
  if (!answer) {
    answer = new Answer(id, conversationId);
    answers.set(id, answer);
  }
  return answer;
}

export const findAnswer = (id: string) => answers.get(id);

/** The answer behind a message from a REST page; the stored row wins once it has ended. */
export function answerFromMessage(message: Message): Answer {
  const known = answers.has(message.id);
  const answer = answerFor(message.id, message.conversationId);
  // Already showing this ending (a page fetched again): nothing to render again.
  const settled =
    answer.status.peek() === message.status &&
    answer.text.peek() === message.content &&
    answer.citations.peek().length === message.citations.length;
  if (isTerminal(message.status) && !settled) {
    batch(() => {
      answer.buffer = message.content;
      answer.text.value = message.content;
      answer.citations.value = message.citations;
      answer.details.value = {
        model: message.model,
        ttftMs: message.ttftMs,
        latencyMs: message.latencyMs,
        usage: message.usage,
      };
      if (message.status === 'failed')
        answer.failure.value ??= {
          code: 'failed',
          message: message.error ?? 'The answer could not be completed.',
          retryable: true,
        };
      answer.status.value = message.status;
    });
    answer.early.clear();
    dirty.delete(answer);
  } else if (!known) {
    answer.status.value = message.status;
  }
  publishActive();
  if (!isTerminal(answer.status.value) && !known) resume(answer);
  return answer;
}

/** A fresh answer announced by a send or regenerate acknowledgement. */
export function expectAnswer(id: string, conversationId: string): Answer {
  const answer = answerFor(id, conversationId);
  publishActive();
  return answer;
}

// ---- rendering cadence: one publish per animation frame for all streaming answers ----

const dirty = new Set<Answer>();
let frameScheduled = false;

function scheduleFrame() {
  if (frameScheduled) return;
  frameScheduled = true;
  // rAF does not run in a hidden tab; a timer keeps a background tab's text current anyway.
  if (document.hidden) setTimeout(flushFrame, 200);
  else requestAnimationFrame(flushFrame);
}

/**
 * Each answer's update (Markdown, sanitising, DOM) runs as a task of its own, queued at the
 * frame: three streaming answers make three short tasks instead of one long frame.
 */
const updates = new MessageChannel();
const queued: Answer[] = [];
updates.port1.onmessage = () => {
  const answer = queued.shift();
  if (answer) answer.text.value = answer.buffer;
};

function flushFrame() {
  frameScheduled = false;
  for (const answer of dirty) {
    queued.push(answer);
    updates.port2.postMessage(null);
  }
  dirty.clear();
}

function applyToken(answer: Answer, seq: number, delta: string) {
  if (seq <= answer.applied || answer.early.has(seq) || isTerminal(answer.status.value)) return;
  answer.early.set(seq, delta);
  let next = answer.early.get(answer.applied + 1);
  while (next !== undefined) {
    answer.early.delete(answer.applied + 1);
    answer.buffer += next;
    answer.applied += 1;
    next = answer.early.get(answer.applied + 1);
  }
  dirty.add(answer);
  scheduleFrame();
  // A gap means this page joined mid-stream or missed events: ask for what lies before.
  if (answer.early.size > 0) resume(answer);
}

// ---- resume: after a reload, a reconnect, or when an answer shows up mid-stream ----

const resuming = new Set<string>();

function resume(answer: Answer) {
  // While disconnected the connect hook resumes every unfinished answer.
  if (resuming.has(answer.id) || !connected.value) return;
  resuming.add(answer.id);
  request('chat:resume', { messageId: answer.id, afterSeq: answer.applied })
    .catch(() => {
      // Nothing to replay (ended and expired, or deleted): the REST row is the truth.
      resumeFailed.value = answer.id;
    })
    .finally(() => resuming.delete(answer.id));
}

/** The last answer whose resume failed; the thread reloads its page to get the stored row. */
export const resumeFailed = signal<string | null>(null);

onConnected(() => {
  for (const answer of answers.values()) if (!isTerminal(answer.status.value)) resume(answer);
});

// ---- live events ----

/** Ids of answers that started but are not in the thread yet (another tab sent them). */
export const startedElsewhere = signal<ChatStartedNote | null>(null);
export interface ChatStartedNote {
  conversationId: string;
  messageId: string;
}

onServerEvent('chat:started', ({ conversationId, messageId }) => {
  const answer = answerFor(messageId, conversationId);
  if (answer.status.value === 'pending') answer.status.value = 'streaming';
  publishActive();
  startedElsewhere.value = { conversationId, messageId };
});

onServerEvent('chat:token', ({ conversationId, messageId, seq, delta }) => {
  const answer = answerFor(messageId, conversationId);
  if (answer.status.value === 'pending') {
    answer.status.value = 'streaming';
    publishActive();
  }
  applyToken(answer, seq, delta);
});

// A tool call takes a seq of the answer's sequence: it carries no text, but fills its place so the
// tokens after it apply (the thread shows tool activity from the stored message's toolCalls).
onServerEvent('chat:tool', ({ conversationId, messageId, seq }) => {
  applyToken(answerFor(messageId, conversationId), seq, '');
});

onServerEvent('chat:done', (done) => {
  const answer = answerFor(done.messageId, done.conversationId);
  if (isTerminal(answer.status.value) && answer.status.value !== 'failed') return;
  dirty.delete(answer);
  answer.early.clear();
  answer.buffer = done.content;
  batch(() => {
    answer.text.value = done.content;
    answer.citations.value = done.citations;
    answer.details.value = {
      model: done.model,
      ttftMs: done.ttftMs,
      latencyMs: done.latencyMs,
      usage: done.usage,
    };
    answer.failure.value = null;
    answer.status.value = done.status;
  });
  publishActive();
});

onServerEvent('chat:error', (error) => {
  const answer = answerFor(error.messageId, error.conversationId);
  if (isTerminal(answer.status.value)) return;
  dirty.delete(answer);
  batch(() => {
    answer.text.value = answer.buffer;
    answer.failure.value = { code: error.code, message: error.message, retryable: error.retryable };
    answer.status.value = 'failed';
  });
  publishActive();
});

/** Stop: the answer ends with chat:done `cancelled` (keeping its partial text). */
export async function stopAnswer(answer: Answer) {
  await request('chat:cancel', { messageId: answer.id });
}
