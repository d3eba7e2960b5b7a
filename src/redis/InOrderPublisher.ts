/** What the Socket.IO emitter needs of a Redis client. */
export interface Publisher {
  publish(channel: string, message: string | Buffer): Promise<number>;
}

export interface InOrderOptions {
  /** Pause before sending again what a node failed to take (the cluster is choosing a new master). */
  retryDelayMs: number;
  /** How long a message is tried before it is given up (lost live; the replay log has it). */
  giveUpAfterMs: number;
}

interface Entry {
  channel: string;
  message: string | Buffer;
  firstTriedAt: number;
  settle: (receivers: number) => void;
}

/**
 * Publishes through one node of a cluster at a time, so messages arrive in the order they were
 * published, also across a failover. A cluster broadcasts a PUBLISH from any node, but two
 * messages sent to two nodes race each other, and a node that dies rejects what it was sent,
 * later messages included. So: the node (`pick`) is kept while it takes messages; when one fails,
 * nothing new is sent until every message sent to that node has settled; then the failed ones go
 * again, oldest first and ahead of everything published meanwhile, to the node `pick` names now.
 * Nothing overtakes a message still in doubt: an answer's tokens can't arrive after its chat:done.
 * The returned promise never rejects (the emitter leaves it unhandled).
 */
export class InOrderPublisher implements Publisher {
  private readonly pick: () => Publisher;
  private readonly options: InOrderOptions;
  private target?: Publisher;
  private inFlight = 0;
  /** Failed while in flight: sent again first, in publish order. */
  private failed: { order: number; entry: Entry }[] = [];
  /** Published while the node was in doubt. */
  private held: Entry[] = [];
  private recovering = false;
  private order = 0;

  constructor(pick: () => Publisher, options: InOrderOptions) {
    this.pick = pick;
    this.options = options;
  }

  publish(channel: string, message: string | Buffer): Promise<number> {
    return new Promise((settle) => {
      const entry: Entry = { channel, message, firstTriedAt: Date.now(), settle };
      if (this.recovering) this.held.push(entry);
      else this.send(entry);
    });
  }

  private send(entry: Entry): void {
    this.target ??= this.pick();
    const order = this.order++;
    this.inFlight += 1;
    let sent: Promise<number>;
    try {
      sent = this.target.publish(entry.channel, entry.message);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (receivers) => {
        entry.settle(receivers);
        this.settled();
      },
      () => {
        this.failed.push({ order, entry });
        this.recovering = true;
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inFlight -= 1;
    if (this.inFlight > 0 || !this.recovering) return;
    // Everything sent to the node is settled: retry on whichever node is current by then.
    setTimeout(() => this.resend(), this.options.retryDelayMs);
  }

  private resend(): void {
    const again = this.failed.sort((a, b) => a.order - b.order).map(({ entry }) => entry);
    const queue = [...again, ...this.held];
    this.failed = [];
    this.held = [];
    this.recovering = false;
    this.target = undefined;
    const now = Date.now();
    for (const entry of queue) {
      if (now - entry.firstTriedAt > this.options.giveUpAfterMs) entry.settle(0);
      else this.send(entry);
    }
  }
}
