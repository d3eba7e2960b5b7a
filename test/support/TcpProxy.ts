import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on a free local port to a real service, so a test can take the service away from
 * one process (close: open connections drop, new ones are refused) without stopping the shared one.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly connections = new Set<Socket>();
  private listeningPort = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => {
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
      client.pipe(upstream).pipe(client);
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

  /** `url` with its host and port replaced by this proxy's. */
  rewrite(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Stops listening and drops every open connection: the service is gone for whoever used the proxy. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    for (const socket of this.connections) socket.destroy();
    await closed;
  }
}
