import { Worker } from 'node:worker_threads';
import type { JsonataLimits, JsonataReply, JsonataRequest } from './jsonata-protocol.ts';

/**
 * Where JSONata expressions run: one worker thread shared by every mapping, evaluating one expression at
 * a time. JSONata checks its own timeout only between evaluation steps, so a single built-in call (a
 * polynomial native regex in $toMillis, a $pad to a billion characters) can outrun timeout_ms and fill
 * the heap. Here the worker has its own heap cap (resourceLimits), and an evaluation that outlives its
 * hard deadline is stopped by terminating the worker. Either way only that evaluation fails; the next one
 * gets a fresh worker. Mappings without JSONata never come here.
 */

/** Heap of the JSONata worker; an expression that needs more fails as JSONATA_LIMIT. */
export const JSONATA_HEAP_MB = 64;

/** The hard deadline: JSONata's own timeout gets the first chance, then the worker is terminated. */
export function hardDeadlineMs(timeoutMs: number): number {
  return timeoutMs * 2 + 50;
}

/**
 * Why an evaluation did not produce a value: a guardrail stopped it (limit), the input was too deeply
 * nested to hand over (too_deep), or JSONata reported an error (failed, with JSONata's code and offset).
 */
export class JsonataSandboxError extends Error {
  readonly kind: 'limit' | 'too_deep' | 'failed';
  readonly code: string | undefined;
  readonly position: number | undefined;

  constructor(
    message: string,
    kind: JsonataSandboxError['kind'],
    details: { code?: string | undefined; position?: number | undefined } = {},
  ) {
    super(message);
    this.name = 'JsonataSandboxError';
    this.kind = kind;
    this.code = details.code;
    this.position = details.position;
  }
}

interface Pending {
  request: JsonataRequest;
  resolve(value: unknown): void;
  reject(error: JsonataSandboxError): void;
}

const WORKER_URL = new URL('./jsonata-worker.ts', import.meta.url);

export class JsonataSandbox {
  private worker: Worker | null = null;
  private ready: Promise<Worker> | null = null;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly heapMb: number;
  /** Workers started so far; tests read it to see a worker was replaced. */
  started = 0;

  constructor(heapMb = JSONATA_HEAP_MB) {
    this.heapMb = heapMb;
  }

  /** Evaluates `text` on `input`; rejects with JsonataSandboxError, never with anything else. */
  evaluate(
    text: string,
    limits: JsonataLimits,
    input: unknown,
    bindings: Record<string, unknown>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, text, limits, input, bindings }, resolve, reject });
      this.pump();
    });
  }

  /** Stops the worker; pending evaluations fail. The next evaluate() starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.discard(new JsonataSandboxError('the JSONata sandbox was closed', 'failed'));
    for (const pending of this.queue.splice(0)) {
      pending.reject(new JsonataSandboxError('the JSONata sandbox was closed', 'failed'));
    }
    if (worker) await worker.terminate();
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const pending = this.queue.shift()!;
    this.current = pending;
    this.start().then(
      (worker) => this.send(worker, pending),
      (e: unknown) =>
        this.finish(
          pending,
          new JsonataSandboxError(`the JSONata worker did not start: ${messageOf(e)}`, 'failed'),
        ),
    );
  }

  private send(worker: Worker, pending: Pending): void {
    if (this.current !== pending) return;
    try {
      worker.postMessage(pending.request);
    } catch (e) {
      // Structured clone recurses: a payload nested thousands deep overflows here, before the worker.
      const deep = /call stack/i.test(messageOf(e));
      this.finish(
        pending,
        new JsonataSandboxError(
          deep
            ? `the input is nested too deeply to hand to JSONata (${messageOf(e)})`
            : `the input cannot be handed to JSONata: ${messageOf(e)}`,
          deep ? 'too_deep' : 'failed',
        ),
      );
      return;
    }
    worker.ref();
    const deadline = hardDeadlineMs(pending.request.limits.timeoutMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.discard(
        new JsonataSandboxError(
          `evaluation was stopped after ${deadline} ms (timeout_ms ${pending.request.limits.timeoutMs}); a single built-in call ran too long`,
          'limit',
        ),
      );
      void worker.terminate();
      this.pump();
    }, deadline);
  }

  private start(): Promise<Worker> {
    if (this.ready) return this.ready;
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
    });
    this.started++;
    this.worker = worker;
    const ready = new Promise<Worker>((resolve, reject) => {
      const onFirst = (message: unknown) => {
        if ((message as { ready?: boolean }).ready) resolve(worker);
      };
      worker.once('message', onFirst);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`it exited with code ${code}`)));
    });
    this.ready = ready;
    worker.on('message', (reply: JsonataReply | { ready: true }) => {
      if (this.worker === worker && 'id' in reply) this.reply(reply);
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.discard(
        new JsonataSandboxError(
          memory
            ? `the expression needed more than the ${this.heapMb} MB JSONata heap and was stopped`
            : `the JSONata worker failed: ${e.message}`,
          memory ? 'limit' : 'failed',
        ),
      );
      this.pump();
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.discard(new JsonataSandboxError('the JSONata worker exited during the evaluation', 'failed'));
      this.pump();
    });
    return ready;
  }

  private reply(reply: JsonataReply): void {
    const pending = this.current;
    if (!pending || pending.request.id !== reply.id) return;
    if (reply.ok) {
      this.finish(pending, null, reply.value);
    } else if (reply.kind === 'size') {
      this.finish(pending, new JsonataSandboxError(reply.message, 'limit'));
    } else {
      this.finish(
        pending,
        new JsonataSandboxError(reply.message, 'failed', { code: reply.code, position: reply.position }),
      );
    }
    this.worker?.unref();
    this.pump();
  }

  // Settles the running evaluation once; a late second outcome (an exit after a timeout) is ignored.
  private finish(pending: Pending, error: JsonataSandboxError | null, value?: unknown): void {
    if (this.current !== pending) return;
    this.current = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  // Forgets the worker (it is dead or about to be) and fails the evaluation it was running.
  private discard(error: JsonataSandboxError): void {
    this.worker = null;
    this.ready = null;
    if (this.current) this.finish(this.current, error);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let shared: JsonataSandbox | null = null;

/** The process-wide sandbox every JSONata field uses. */
export function jsonataSandbox(): JsonataSandbox {
  shared ??= new JsonataSandbox();
  return shared;
}
