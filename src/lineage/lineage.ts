import { randomUUID } from 'node:crypto';
import { type CompiledMapping, ensureError } from '../mapping/index.ts';
import { LineageEmitter, type LineageEmitterOptions, type LineageEmitterStats } from './lineage-emitter.ts';
import {
  type DatasetRef,
  datasetJob,
  type LineageSites,
  mappingJob,
  qualityCheckJob,
  rollupJob,
} from './lineage-graph.ts';
import { type JobLineage, type RunEvent, type RunEventType, runEvent } from './run-event.ts';

export interface LineageOptions extends LineageEmitterOptions {
  sites: LineageSites;
  /** The `producer` of every event and `_producer` of every facet. @defaultValue PRODUCER */
  producer?: string;
  /** A continuous job's run spans this window of batches (docs/lineage.md, "Runs"). @defaultValue 60000 */
  windowMs?: number;
}

/** Names this software in every event: what OpenLineage calls the producer. */
export const PRODUCER = 'urn:iot-integration-hub:0.1.0';

export interface RunOptions<T> {
  /** Emit the run only when this says the work did something (a failure is always emitted). */
  emitIf?: (result: T) => boolean;
  /** Rows the run wrote, for the outputStatistics facet. */
  rowCount?: (result: T) => number | undefined;
}

interface OpenWindow {
  runId: string;
  job: JobLineage;
  rows: number;
  timer: NodeJS.Timeout;
}

/**
 * The hub's OpenLineage runs (docs/lineage.md). Jobs describe themselves with forMapping/rollup/datasets and report
 * at their boundaries: run() around a finite job (START, then COMPLETE or FAIL), batchSucceeded/batchFailed for a
 * continuous one, whose run is a window of its batches. Off until configure(): then describing a job returns null
 * and reporting costs nothing. Never throws into a job and never waits on the endpoint (LineageEmitter).
 */
export class Lineage {
  #emitter: LineageEmitter | null = null;
  #sites: LineageSites | null = null;
  #producer = PRODUCER;
  #windowMs = 60_000;
  readonly #windows = new Map<string, OpenWindow>();
  #jobs = new WeakMap<CompiledMapping, Map<string, JobLineage>>();

  /** Starts emitting to `options.url`; replaces (and closes) an earlier configuration. */
  async configure(options: LineageOptions): Promise<void> {
    await this.close();
    this.#emitter = new LineageEmitter(options);
    this.#sites = options.sites;
    this.#producer = options.producer ?? PRODUCER;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#jobs = new WeakMap();
  }

  get enabled(): boolean {
    return this.#emitter !== null;
  }

  stats(): LineageEmitterStats | null {
    return this.#emitter?.stats() ?? null;
  }

  /** The job that runs a mapping (lineage-graph.ts mappingJob), cached per mapping; null while off. */
  forMapping(mapping: CompiledMapping | undefined, topic?: string): JobLineage | null {
    if (!this.#sites || !mapping) return null;
    const byTopic = this.#jobs.get(mapping) ?? new Map<string, JobLineage>();
    this.#jobs.set(mapping, byTopic);
    const key = topic ?? '';
    const job = byTopic.get(key) ?? mappingJob(this.#sites, mapping, topic);
    byTopic.set(key, job);
    return job;
  }

  /** The hourly rollup job; null while off. */
  rollup(): JobLineage | null {
    return this.#sites && rollupJob(this.#sites);
  }

  /** A data-quality check of src/quality/monitor/jobs.ts by name; null while off or for another name. */
  qualityCheck(name: string): JobLineage | null {
    return this.#sites && qualityCheckJob(this.#sites, name);
  }

  /** A job between datasets, without column lineage; null while off. */
  datasets(name: string, inputs: readonly DatasetRef[], outputs: readonly DatasetRef[]): JobLineage | null {
    return this.#sites && datasetJob(this.#sites, name, inputs, outputs);
  }

  /**
   * Runs `work` as one run of `job`: START, then COMPLETE (with the row count) or FAIL (with the error, which is
   * rethrown). With emitIf, a run that did nothing emits no event. A null job just runs the work.
   */
  async run<T>(job: JobLineage | null, work: () => Promise<T>, options: RunOptions<T> = {}): Promise<T> {
    if (!job || !this.#emitter) return work();
    const runId = randomUUID();
    const start = this.#event(job, runId, 'START');
    if (!options.emitIf) this.#emit(start);
    let result: T;
    try {
      result = await work();
    } catch (e) {
      if (options.emitIf) this.#emit(start);
      this.#emit(this.#event(job, runId, 'FAIL', { error: ensureError(e) }));
      throw e;
    }
    if (options.emitIf && !options.emitIf(result)) return result;
    if (options.emitIf) this.#emit(start);
    this.#emit(this.#event(job, runId, 'COMPLETE', { rowCount: options.rowCount?.(result) }));
    return result;
  }

  /**
   * Runs one batch of a continuous job: its rows (`rowsOf` the result) count toward the window's run; an error
   * ends the run with FAIL and is rethrown.
   */
  async batch<T>(job: JobLineage | null, work: () => Promise<T>, rowsOf: (result: T) => number): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (e) {
      this.batchFailed(job, e);
      throw e;
    }
    this.batchSucceeded(job, rowsOf(result));
    return result;
  }

  /** A batch of a continuous job committed `rows` rows: opens the window's run (START) when none is open. */
  batchSucceeded(job: JobLineage | null, rows: number): void {
    if (!job || !this.#emitter) return;
    const window = this.#window(job);
    window.job = job;
    window.rows += rows;
  }

  /** A batch of a continuous job failed: its window's run ends with FAIL; the next batch opens a new run. */
  batchFailed(job: JobLineage | null, error: unknown): void {
    if (!job || !this.#emitter) return;
    const window = this.#window(job);
    this.#closeWindow(job.name, window, 'FAIL', ensureError(error));
  }

  /** Ends every open window (COMPLETE) and sends what is queued. */
  async flush(): Promise<void> {
    for (const [name, window] of this.#windows) this.#closeWindow(name, window, 'COMPLETE');
    await this.#emitter?.flush();
  }

  /** Ends the open windows, sends what it can within a few seconds and turns lineage off. */
  async close(): Promise<void> {
    const emitter = this.#emitter;
    if (!emitter) return;
    for (const [name, window] of this.#windows) this.#closeWindow(name, window, 'COMPLETE');
    this.#emitter = null;
    this.#sites = null;
    await emitter.close();
  }

  #window(job: JobLineage): OpenWindow {
    const open = this.#windows.get(job.name);
    if (open) return open;
    const runId = randomUUID();
    const window: OpenWindow = {
      runId,
      job,
      rows: 0,
      timer: setTimeout(() => this.#closeWindow(job.name, window, 'COMPLETE'), this.#windowMs),
    };
    window.timer.unref();
    this.#windows.set(job.name, window);
    this.#emit(this.#event(job, runId, 'START'));
    return window;
  }

  #closeWindow(name: string, window: OpenWindow, eventType: 'COMPLETE' | 'FAIL', error?: Error): void {
    if (this.#windows.get(name) !== window) return;
    this.#windows.delete(name);
    clearTimeout(window.timer);
    this.#emit(
      this.#event(window.job, window.runId, eventType, {
        error,
        rowCount: eventType === 'COMPLETE' ? window.rows : undefined,
      }),
    );
  }

  #event(
    job: JobLineage,
    runId: string,
    eventType: RunEventType,
    extra: { rowCount?: number; error?: Error } = {},
  ): RunEvent {
    return runEvent(this.#producer, job, { runId, eventType, time: new Date(), ...extra });
  }

  #emit(event: RunEvent): void {
    this.#emitter?.emit(event);
  }
}

/** The process's lineage: configured by the hub at start (src/hub.ts), used by every job. */
export const lineage = new Lineage();
