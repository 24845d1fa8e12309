import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RunEvent } from '../../../src/lineage/index.ts';

const require = createRequire(import.meta.url);
const addFormats = (require('ajv-formats') as { default: (ajv: Ajv2020) => Ajv2020 }).default;
const schema = require('../../../schema/openlineage-run-event.schema.json') as object;

/** Validates against schema/openlineage-run-event.schema.json: null when valid, else ajv's errors as text. */
export const runEventErrors = (() => {
  const validate = addFormats(new Ajv2020({ allErrors: true, strict: true })).compile(schema);
  return (event: unknown): string | null =>
    validate(event) ? null : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ');
})();

/**
 * A stand-in OpenLineage endpoint: a real HTTP server in the test process that keeps what is POSTed to
 * /api/v1/lineage. `answers` are status codes for the next requests (then 201, as Marquez answers).
 */
export class OpenLineageStandIn {
  readonly events: RunEvent[] = [];
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  readonly answers: number[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<OpenLineageStandIn> {
    const standIn: OpenLineageStandIn = new OpenLineageStandIn(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          standIn.requests.push({ path: req.url ?? '', headers: req.headers });
          const status = standIn.answers.shift() ?? 201;
          if (req.url === '/api/v1/lineage' && status < 300)
            standIn.events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunEvent);
          res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        });
      }),
    );
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Events of one job, in the order received. */
  of(job: string): RunEvent[] {
    return this.events.filter((e) => e.job.name === job);
  }

  /** Resolves with the first event that `match` accepts, polling every 20 ms, or rejects after `timeoutMs`. */
  async waitFor(match: (e: RunEvent) => boolean, timeoutMs = 20_000): Promise<RunEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no matching OpenLineage event within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A port nothing listens on: a server is opened and closed again, so a connection is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
