import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsRegistry } from './metrics.ts';

/** A dependency the hub needs to be ready; `check` resolves when it is usable and throws otherwise. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface HubHttpServer {
  server: http.Server;
  port: number;
  /** Mounts another handler (e.g. /graphql) on the same port. */
  route(path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/**
 * The hub's one HTTP port: /healthz (the process is alive), /readyz (each dependency, 503 when any is down),
 * /metrics (Prometheus text). Stages mount their own paths with route().
 */
export async function startHttpServer(
  port: number,
  checks: ReadinessCheck[],
  host = '0.0.0.0',
): Promise<HubHttpServer> {
  const routes = new Map<string, RouteHandler>();
  routes.set('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  routes.set('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        const started = Date.now();
        try {
          await withTimeout(c.check(), 3000);
          return [c.name, { up: true, ms: Date.now() - started }] as const;
        } catch (err) {
          return [c.name, { up: false, error: (err as Error).message }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.up);
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not ready',
      dependencies: Object.fromEntries(results),
    });
  });
  routes.set('/metrics', async (_req, res) => {
    res.writeHead(200, { 'content-type': metricsRegistry.contentType });
    res.end(await metricsRegistry.metrics());
  });

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = routes.get(path);
    if (!handler) return sendJson(res, 404, { error: `no route ${path}; try /healthz, /readyz, /metrics` });
    Promise.resolve(handler(req, res)).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: err.message });
      else res.destroy(err);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`HTTP port ${port} is in use; stop the other process or pass --port`)
          : err,
      ),
    );
    server.listen(port, host, resolve);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    route: (path, handler) => void routes.set(path, handler),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
}
