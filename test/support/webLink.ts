import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * The browser's only way to the edge: a TCP relay on a port of its own that a test can sever (every
 * open connection drops, new ones are refused at once) and restore on the same port, so the page's
 * origin stays the same and its Socket.IO client reconnects by itself. Unlike TcpProxy, which goes
 * away for good, the listener stays up while severed: refusing by closing each new connection
 * keeps the port ours.
 */
export class SeverableLink {
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private severed = false;
  /** Connections refused while severed: a test can wait for the browser's retries. */
  refused = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => {
      if (this.severed) {
        this.refused += 1;
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        this.connections.add(socket);
        socket.once('close', () => this.connections.delete(socket));
        // One side failing ends the pair; the failure is what the test caused, not a crash.
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  /** A link to `url`'s host and port, listening on a free port of 127.0.0.1. */
  static async to(url: string): Promise<SeverableLink> {
    const target = new URL(url);
    const link = new SeverableLink(target.hostname, Number(target.port));
    await new Promise<void>((listening) => link.server.listen(0, '127.0.0.1', listening));
    return link;
  }

  /** The origin a browser uses to reach the edge through this link. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Drops every open connection (HTTP keep-alive and WebSocket alike) and refuses new ones. */
  sever(): void {
    this.severed = true;
    for (const socket of this.connections) socket.destroy();
  }

  restore(): void {
    this.severed = false;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    for (const socket of this.connections) socket.destroy();
    await closed;
  }
}
