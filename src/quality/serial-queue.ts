interface Entry<T> {
  run: () => Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  admit: () => void;
}

/** A task taken by SerialQueue: `admitted` resolves once it holds one of the queue's places, `done` with its result. */
export interface QueuedTask<T> {
  admitted: Promise<void>;
  done: Promise<T>;
}

/**
 * Runs tasks one after another, in the order they were pushed. The first `places` tasks (the running one
 * included) are admitted at once; later ones are still kept in order but their `admitted` promise waits until
 * a place frees up, so a producer that awaits it is held back instead of piling up work.
 */
export class SerialQueue<T> {
  readonly places: number;
  readonly #entries: Entry<T>[] = [];
  #running = false;
  #idle: Array<() => void> = [];

  constructor(places: number) {
    if (!(Number.isInteger(places) && places >= 1))
      throw new Error(`queue places must be an integer ≥ 1, got ${places}`);
    this.places = places;
  }

  /** Tasks waiting or running. */
  get length(): number {
    return this.#entries.length;
  }

  push(run: () => Promise<T>): QueuedTask<T> {
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => {
      admit = resolve;
    });
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#entries.push({ run, resolve, reject, admit });
    if (this.#entries.length <= this.places) admit();
    this.#next();
    return { admitted, done };
  }

  /** Resolves once nothing is waiting or running. */
  whenIdle(): Promise<void> {
    if (this.#entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Rejects every task that has not started with `err`; returns how many. The running task goes on. */
  dropWaiting(err: Error): number {
    const dropped = this.#entries.splice(this.#running ? 1 : 0);
    for (const e of dropped) {
      e.admit();
      e.reject(err);
    }
    if (this.#entries.length === 0) this.#wakeIdle();
    return dropped.length;
  }

  #next(): void {
    if (this.#running) return;
    const entry = this.#entries[0];
    if (!entry) {
      this.#wakeIdle();
      return;
    }
    this.#running = true;
    let result: Promise<T>;
    try {
      result = entry.run();
    } catch (e) {
      result = Promise.reject(e);
    }
    result.then(entry.resolve, entry.reject).finally(() => {
      if (this.#entries[0] === entry) this.#entries.shift();
      this.#entries[this.places - 1]?.admit();
      this.#running = false;
      this.#next();
    });
  }

  #wakeIdle(): void {
    const idle = this.#idle;
    this.#idle = [];
    for (const wake of idle) wake();
  }
}
