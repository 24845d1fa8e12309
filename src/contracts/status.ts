import type pg from 'pg';
import { Gauge } from 'prom-client';
import { metricsRegistry } from '../observability/index.ts';
import { type CheckResult, latencySeconds, runContractChecks } from './checks.ts';
import type { ContractFile, DataContract } from './contract.ts';

// The measured status of each data product (docs/data-products.md, "Served"): its contract's checks, run at
// most once per `maxAgeMs` per product and shared by GraphQL, the REST route and /metrics. The contracts keep
// their checks cheap (rollups, indexed columns, hub.lineage), never a scan of dw.fact_sensor_reading.

export interface ProductStatus {
  id: string;
  /** The newest load batch of the product's tables recorded in hub.lineage within 7 days; null without one. */
  lastLoadAt: Date | null;
  /** Seconds since the newest value of the latency objective's element; null without an objective or rows. */
  freshnessSeconds: number | null;
  /** The latency objective in seconds; null without one. */
  freshnessObjectiveSeconds: number | null;
  /** The value of the product's object-level completeness rule (e.g. received ÷ expected readings); null without. */
  completeness: number | null;
  checksPassed: number;
  checksFailed: number;
  /** Names of the checks that did not pass (failed or error), `element: check`. */
  failing: string[];
  checkedAt: Date;
  results: CheckResult[];
}

export interface ProductStatusOptions {
  db: pg.Pool;
  contracts: () => readonly ContractFile[];
  /** How long a measured status is reused. @defaultValue 60000 */
  maxAgeMs?: number;
}

/** Measures products on demand, caching each for `maxAgeMs`; concurrent callers share one measurement. */
export class ProductStatusBoard {
  readonly #options: ProductStatusOptions;
  readonly #cache = new Map<string, { at: number; status: Promise<ProductStatus> }>();

  constructor(options: ProductStatusOptions) {
    this.#options = options;
  }

  /** The loaded contract with `id`; undefined when there is none. */
  contract(id: string): ContractFile | undefined {
    return this.#options.contracts().find((c) => c.contract.id === id);
  }

  /** The status of product `id`; throws a sentence listing the known ids when there is no such product. */
  status(id: string): Promise<ProductStatus> {
    const file = this.contract(id);
    if (!file)
      throw new Error(
        `no data product '${id}'; known: ${this.#options
          .contracts()
          .map((c) => c.contract.id)
          .join(', ')}`,
      );
    const cached = this.#cache.get(id);
    if (cached && Date.now() - cached.at < (this.#options.maxAgeMs ?? 60_000)) return cached.status;
    const status = measureProduct(this.#options.db, file.contract);
    this.#cache.set(id, { at: Date.now(), status });
    status.catch(() => this.#cache.delete(id));
    return status;
  }
}

/** Runs the contract's checks and reads its last load; database errors propagate. */
export async function measureProduct(db: pg.Pool, contract: DataContract): Promise<ProductStatus> {
  const results = await runContractChecks(db, contract);
  const tables = contract.schema.map((s) =>
    s.physicalName?.includes('.') ? s.physicalName : `dw.${s.physicalName ?? s.name}`,
  );
  // Backwards along lineage_started within a week: bounded however long the history is.
  const { rows } = await db.query<{ last: Date | null }>(
    `SELECT max(coalesce(finished_at, started_at)) AS last FROM hub.lineage
     WHERE started_at >= now() - interval '7 days' AND target_table = ANY($1)`,
    [tables],
  );
  const latency = contract.slaProperties?.find((s) => s.property === 'latency');
  const freshness = results.find((r) => r.kind === 'sla' && r.check === 'latency');
  const completeness = results.find(
    (r) => r.kind === 'quality' && r.dimension === 'completeness' && !r.element.includes('.'),
  );
  const bad = results.filter((r) => r.outcome === 'failed' || r.outcome === 'error');
  return {
    id: contract.id,
    lastLoadAt: rows[0]?.last ?? null,
    freshnessSeconds: freshness?.observed ?? null,
    freshnessObjectiveSeconds: latency ? safeSeconds(latency) : null,
    completeness: completeness?.observed ?? null,
    checksPassed: results.filter((r) => r.outcome === 'passed').length,
    checksFailed: bad.length,
    failing: bad.map((r) => `${r.element}: ${r.check}`),
    checkedAt: new Date(),
    results,
  };
}

function safeSeconds(sla: Parameters<typeof latencySeconds>[0]): number | null {
  try {
    return latencySeconds(sla);
  } catch {
    return null;
  }
}

interface GaugeSource {
  board: ProductStatusBoard;
  ids: () => readonly string[];
}
let gaugeSource: GaugeSource | null = null;
let pendingScrape: Promise<ProductStatus[]> | null = null;

/**
 * Gauges `iot_hub_data_product_freshness_seconds`, `…_completeness_ratio` and `…_checks_failed`, labelled by
 * product, measured through `board` when /metrics is scraped (each product at most once per the board's maxAge).
 * A product that cannot be measured is left out of that scrape. The latest registration is measured; the
 * returned function unregisters it (the GraphQL stage calls it when it stops).
 */
export function registerProductGauges(board: ProductStatusBoard, ids: () => readonly string[]): () => void {
  const source = { board, ids };
  gaugeSource = source;
  if (!metricsRegistry.getSingleMetric(freshnessGauge)) {
    gauge(
      freshnessGauge,
      'Seconds since the newest data of the product (its contract latency element).',
      (s) => s.freshnessSeconds,
    );
    gauge(
      completenessGauge,
      'Completeness of the product as its contract measures it (0..1).',
      (s) => s.completeness,
    );
    gauge(
      failedGauge,
      'Contract checks of the product that failed at the last measurement.',
      (s) => s.checksFailed,
    );
  }
  return () => {
    if (gaugeSource === source) gaugeSource = null;
  };
}

const freshnessGauge = 'iot_hub_data_product_freshness_seconds';
const completenessGauge = 'iot_hub_data_product_completeness_ratio';
const failedGauge = 'iot_hub_data_product_checks_failed';

/** The statuses of every product, one measurement shared by the three gauges of a scrape. */
function scrape(): Promise<ProductStatus[]> {
  const source = gaugeSource;
  if (!source) return Promise.resolve([]);
  pendingScrape ??= Promise.allSettled(source.ids().map((id) => source.board.status(id)))
    .then((all) => all.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])))
    .finally(() => setTimeout(() => (pendingScrape = null), 0));
  return pendingScrape;
}

function gauge(name: string, help: string, value: (s: ProductStatus) => number | null): void {
  new Gauge({
    name,
    help,
    labelNames: ['product'],
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      for (const s of await scrape()) {
        const v = value(s);
        if (v !== null) this.set({ product: s.id }, v);
      }
    },
  });
}
