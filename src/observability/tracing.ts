import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';

let sdk: NodeSDK | null = null;

/**
 * Starts OpenTelemetry once per process. Spans are exported over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT (or the
 * traces-specific variable) is set; otherwise spans still exist, so trace ids reach logs and Kafka headers.
 */
export function startTracing(serviceName = 'iot-hub'): { exporting: boolean } {
  const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (sdk) return { exporting: Boolean(endpoint) };
  sdk = new NodeSDK({
    serviceName,
    spanProcessors: endpoint ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] : [],
    // Metrics go to Prometheus through prom-client; no OTel metric reader is started.
    instrumentations: [],
  });
  sdk.start();
  return { exporting: Boolean(endpoint) };
}

export async function stopTracing(): Promise<void> {
  await sdk?.shutdown();
  sdk = null;
}
