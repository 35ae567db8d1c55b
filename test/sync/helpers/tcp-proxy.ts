import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between a client and a broker that a test can cut: `cutAfter(n)` lets n more bytes through from
 * the client (wherever that falls, typically mid-packet, mid-chunk), then destroys every connection and refuses
 * new ones until `restore()`. That is a network cut as the client sees it: no clean DISCONNECT, a half-sent packet.
 */
export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private cut = false;
  private budget = Number.POSITIVE_INFINITY;
  private onCut: (() => void) | undefined;
  bytesUp = 0;
  cuts = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort, targetHost));
    const port = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    proxy = new TcpProxy(server, port);
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Cuts the network once `bytes` more bytes have gone from client to broker; `then` runs at the cut. */
  cutAfter(bytes: number, then?: () => void): void {
    this.budget = bytes;
    this.onCut = then;
  }

  restore(): void {
    this.cut = false;
    this.budget = Number.POSITIVE_INFINITY;
  }

  async close(): Promise<void> {
    this.cutNow();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, port: number, host: string): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.on('data', (data: Buffer) => client.write(data));
    client.on('data', (data: Buffer) => {
      if (this.cut) return;
      if (data.length < this.budget) {
        this.budget -= data.length;
        this.bytesUp += data.length;
        upstream.write(data);
        return;
      }
      const part = data.subarray(0, this.budget);
      this.bytesUp += part.length;
      upstream.write(part, () => this.cutNow());
    });
  }

  private cutNow(): void {
    if (this.cut) return;
    this.cut = true;
    this.cuts++;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.onCut?.();
    this.onCut = undefined;
  }
}
