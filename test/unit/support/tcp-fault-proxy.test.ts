import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpFaultProxy } from '../../support/tcp-fault-proxy.ts';

/** A client on the proxy that collects what comes back and how the connection ended. */
function connectClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const ended = new Promise<{ error?: string }>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code }));
    socket.on('close', () => resolve({}));
  });
  socket.on('data', (d) => {
    received += d.toString();
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    socket,
    connected,
    ended,
    received: () => received,
    async waitFor(text: string, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!received.includes(text)) {
        if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms; got "${received}"`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

describe('TcpFaultProxy', () => {
  let echo: net.Server;
  let proxy: TcpFaultProxy;
  const clients: net.Socket[] = [];

  beforeEach(async () => {
    echo = net.createServer((s) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    proxy = await TcpFaultProxy.start({ targetPort: (echo.address() as net.AddressInfo).port });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  function client() {
    const c = connectClient(proxy.port);
    clients.push(c.socket);
    return c;
  }

  it('forwards both ways and counts bytes and connections', async () => {
    const c = client();
    await c.connected;
    c.socket.write('hello');
    await c.waitFor('hello');
    expect(proxy.counters).toMatchObject({ accepted: 1, open: 1, bytesUp: 5, bytesDown: 5, resets: 0 });
  });

  it('adds latency without reordering chunks', async () => {
    proxy.setLatency(150);
    const c = client();
    await c.connected;
    const started = performance.now();
    c.socket.write('a');
    c.socket.write('b');
    await c.waitFor('ab');
    // One way up and one way down, each delayed.
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('cutAll resets every open connection with an RST', async () => {
    const a = client();
    const b = client();
    await Promise.all([a.connected, b.connected]);
    a.socket.write('x');
    b.socket.write('y');
    await Promise.all([a.waitFor('x'), b.waitFor('y')]);
    expect(proxy.cutAll()).toBe(2);
    expect(await a.ended).toEqual({ error: 'ECONNRESET' });
    expect(await b.ended).toEqual({ error: 'ECONNRESET' });
    expect(proxy.counters).toMatchObject({ resets: 2, open: 0 });
  });

  it('refuses new connections while paused and accepts them again after resume', async () => {
    proxy.pause();
    const refused = client();
    expect((await refused.ended).error).toBe('ECONNRESET');
    expect(proxy.counters.refused).toBe(1);
    proxy.resume();
    const c = client();
    await c.connected;
    c.socket.write('back');
    await c.waitFor('back');
  });

  it('a reset probability of 1 per chunk resets the connection on its first chunk', async () => {
    proxy.setResetPerChunk(1);
    const c = client();
    await c.connected;
    c.socket.write('doomed');
    expect(await c.ended).toEqual({ error: 'ECONNRESET' });
    expect(c.received()).toBe('');
    expect(proxy.counters.resets).toBe(1);
  });

  it('a reset probability of 1 per second resets an idle connection within about a second', async () => {
    const c = client();
    await c.connected;
    proxy.setResetPerSecond(1);
    const started = performance.now();
    expect(await c.ended).toEqual({ error: 'ECONNRESET' });
    expect(performance.now() - started).toBeLessThan(2500);
  });
});
