import net from 'node:net';

export interface FaultProxyCounters {
  /** Connections accepted and forwarded. */
  accepted: number;
  /** Connections refused while paused. */
  refused: number;
  /** Connections reset by cutAll(), a reset probability or a failed upstream. */
  resets: number;
  /** Connections open now. */
  open: number;
  /** Bytes forwarded client → target and target → client. */
  bytesUp: number;
  bytesDown: number;
}

export interface FaultProxyOptions {
  targetHost?: string;
  targetPort: number;
}

/**
 * A TCP proxy for fault tests: listens on 127.0.0.1 (a free port) and forwards each connection to the target,
 * with faults that can be set while it runs: added latency, connection resets (per chunk or per second, with a
 * probability), cutting every open connection, and refusing new ones. Resets are real RSTs (resetAndDestroy),
 * as a crashed peer or a dropped NAT entry would produce.
 */
export class TcpFaultProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  #latencyMs = 0;
  #resetPerChunk = 0;
  #resetPerSecond = 0;
  #ticker: NodeJS.Timeout | undefined;
  #paused = false;
  readonly counters: FaultProxyCounters = {
    accepted: 0,
    refused: 0,
    resets: 0,
    open: 0,
    bytesUp: 0,
    bytesDown: 0,
  };

  private constructor(options: FaultProxyOptions) {
    this.#target = { host: options.targetHost ?? '127.0.0.1', port: options.targetPort };
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** Starts a proxy to the target on a free port of 127.0.0.1. */
  static async start(options: FaultProxyOptions): Promise<TcpFaultProxy> {
    const proxy = new TcpFaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Delays every forwarded chunk, both ways, by this many milliseconds (order is kept). */
  setLatency(ms: number): void {
    this.#latencyMs = Math.max(0, ms);
  }

  /** Resets a connection with probability `p` each time it forwards a chunk. */
  setResetPerChunk(p: number): void {
    this.#resetPerChunk = p;
  }

  /** Resets each open connection with probability `p` once per second (a rate of p resets/s per connection). */
  setResetPerSecond(p: number): void {
    this.#resetPerSecond = p;
    if (p > 0 && !this.#ticker) {
      this.#ticker = setInterval(() => {
        for (const pair of [...this.#pairs]) if (Math.random() < this.#resetPerSecond) this.#reset(pair);
      }, 1000);
      this.#ticker.unref();
    } else if (p <= 0 && this.#ticker) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  /** Resets every open connection; returns how many were cut. */
  cutAll(): number {
    const pairs = [...this.#pairs];
    for (const pair of pairs) this.#reset(pair);
    return pairs.length;
  }

  /** Refuses (resets) new connections until resume(); open ones are left alone. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  /** Stops listening and resets every open connection. */
  async close(): Promise<void> {
    this.setResetPerSecond(0);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.cutAll();
    await closed;
  }

  #accept(client: net.Socket): void {
    if (this.#paused) {
      this.counters.refused += 1;
      client.resetAndDestroy();
      return;
    }
    this.counters.accepted += 1;
    const upstream = net.connect(this.#target);
    const pair = { client, upstream };
    this.#pairs.add(pair);
    this.counters.open = this.#pairs.size;
    const forget = () => {
      if (this.#pairs.delete(pair)) this.counters.open = this.#pairs.size;
      client.destroy();
      upstream.destroy();
    };
    // An error on either side (a reset, a refused target) ends both, as a broken link would.
    client.on('error', forget);
    upstream.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
      forget();
    });
    client.on('close', forget);
    upstream.on('close', forget);
    this.#pipe(pair, client, upstream, 'bytesUp');
    this.#pipe(pair, upstream, client, 'bytesDown');
  }

  #pipe(
    pair: { client: net.Socket; upstream: net.Socket },
    from: net.Socket,
    to: net.Socket,
    counter: 'bytesUp' | 'bytesDown',
  ): void {
    // Chunks are chained so added latency delays them without reordering.
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.#resetPerChunk > 0 && Math.random() < this.#resetPerChunk) {
        this.#reset(pair);
        return;
      }
      const latency = this.#latencyMs;
      chain = chain.then(async () => {
        if (latency > 0) await new Promise((r) => setTimeout(r, latency));
        if (to.destroyed || !this.#pairs.has(pair)) return;
        this.counters[counter] += chunk.length;
        to.write(chunk);
      });
    });
    from.on('end', () => {
      void chain.then(() => {
        if (!to.destroyed) to.end();
      });
    });
  }

  #reset(pair: { client: net.Socket; upstream: net.Socket }): void {
    if (!this.#pairs.delete(pair)) return;
    this.counters.open = this.#pairs.size;
    this.counters.resets += 1;
    for (const s of [pair.client, pair.upstream]) if (!s.destroyed) s.resetAndDestroy();
  }
}
