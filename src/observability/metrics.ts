import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The hub's one Prometheus registry; stages register their metrics here and /metrics serves it. */
export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ service: 'iot-hub' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'iot_hub_' });

export function counter<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as Counter<L>) ??
    new Counter({ name, help, labelNames, registers: [metricsRegistry] })
  );
}

export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as Gauge<L>) ??
    new Gauge({ name, help, labelNames, registers: [metricsRegistry] })
  );
}

export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
): Histogram<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as Histogram<L>) ??
    new Histogram({ name, help, labelNames, buckets, registers: [metricsRegistry] })
  );
}
