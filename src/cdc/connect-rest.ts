import { readFileSync } from 'node:fs';

/** A Kafka Connect connector definition, as in connectors/debezium/*.json. */
export interface ConnectorDefinition {
  name: string;
  config: Record<string, string>;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

/** Reads a connector definition file, applying `overrides` to its config. */
export function readConnectorDefinition(
  file: string,
  overrides: Record<string, string> = {},
): ConnectorDefinition {
  const def = JSON.parse(readFileSync(file, 'utf8')) as ConnectorDefinition;
  return {
    name: overrides.name ?? def.name,
    config: { ...def.config, ...overrides, name: overrides.name ?? def.name },
  };
}

/** A small client of Kafka Connect's REST API. */
export class ConnectClient {
  readonly url: string;
  constructor(url: string) {
    this.url = url.replace(/\/$/, '');
  }

  /** Creates the connector or updates its config (PUT is idempotent). */
  async putConnector(def: ConnectorDefinition): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(def.name)}/config`, def.config);
  }

  async status(name: string): Promise<ConnectorStatus | null> {
    return this.request<ConnectorStatus>(
      'GET',
      `/connectors/${encodeURIComponent(name)}/status`,
      undefined,
      true,
    );
  }

  async deleteConnector(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${encodeURIComponent(name)}`, undefined, true);
  }

  async listConnectors(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/connectors')) ?? [];
  }

  /** Waits until the connector and all its tasks run; a FAILED state throws with the worker's trace. */
  async waitRunning(name: string, timeoutMs = 60_000): Promise<ConnectorStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(name);
      const failed = s && [s.connector, ...s.tasks].find((t) => t.state === 'FAILED');
      if (failed) throw new Error(`connector ${name} failed: ${(failed.trace ?? '').split('\n')[0]}`);
      if (
        s &&
        s.connector.state === 'RUNNING' &&
        s.tasks.length > 0 &&
        s.tasks.every((t) => t.state === 'RUNNING')
      )
        return s;
      if (Date.now() > deadline)
        throw new Error(`connector ${name} not running after ${timeoutMs} ms (status: ${JSON.stringify(s)})`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    allow404 = false,
  ): Promise<T | null> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new Error(
        `Kafka Connect is not reachable at ${this.url} (${String((err as Error).cause ?? err)}); run \`iot-hub stack up\`.`,
      );
    }
    if (allow404 && res.status === 404) return null;
    const text = await res.text();
    if (!res.ok) throw new Error(`Kafka Connect ${method} ${path} answered ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as T) : null;
  }
}
