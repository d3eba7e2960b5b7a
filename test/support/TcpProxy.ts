import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on a free local port to a real service, so a test can take the service away from
 * one process without stopping the shared one: for good (close: open connections drop, new ones
 * are refused) or for a while (sever, then restore on the same port, so a browser's origin stays
 * the same and its clients reconnect by themselves).
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private listeningPort = 0;
  private severed = false;
  private stalled = false;
  /** Connections refused while severed: a test can wait for a client's retries. */
  refused = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => {
      // Refusing by closing each new connection keeps the listener, and so the port, ours.
      if (this.severed) {
        this.refused += 1;
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        this.connections.add(socket);
        socket.once('close', () => this.connections.delete(socket));
        // One side failing ends the pair; the error itself is the test's business, not a crash.
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      // Bytes are relayed unless the proxy is stalled: then they are dropped, both ways.
      client.on('data', (chunk) => this.stalled || upstream.write(chunk));
      upstream.on('data', (chunk) => this.stalled || client.write(chunk));
      client.once('end', () => upstream.end());
      upstream.once('end', () => client.end());
    });
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((listening) => proxy.server.listen(0, '127.0.0.1', listening));
    proxy.listeningPort = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** `http://127.0.0.1:<port>`: the origin of a web app reached through this proxy. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `url` with its host and port replaced by this proxy's. */
  rewrite(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Drops every open connection (HTTP keep-alive and WebSocket alike) and refuses new ones until restore. */
  sever(): void {
    this.severed = true;
    for (const socket of this.connections) socket.destroy();
  }

  restore(): void {
    this.severed = false;
    this.stalled = false;
  }

  /**
   * A black hole: connections stay open and new ones are accepted, but nothing gets through, so a
   * request waits for an answer that never comes (a peer that hangs rather than drops).
   */
  stall(): void {
    this.stalled = true;
  }

  /** Stops listening and drops every open connection: the service is gone for whoever used the proxy. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    for (const socket of this.connections) socket.destroy();
    await closed;
  }
}
