import { readFileSync } from 'node:fs';

/** A Kafka Connect connector definition, as in connectors/debezium/*.json. */
export interface ConnectorDefinition {
  name: string;
  config: Record<string, string>;
}

export interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
  type?: string;
}

/** One connector as `GET /connectors?expand=status&expand=info` lists it. */
export interface ConnectorOverview {
  name: string;
  config: Record<string, string>;
  type?: string;
  status: ConnectorStatus;
}

/** Thrown when the Connect REST API does not answer at all (as opposed to answering with an error). */
export class ConnectUnreachableError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`Kafka Connect at ${url} is not reachable; run \`npx iot-hub stack up\``, { cause });
    this.url = url;
    this.name = 'ConnectUnreachableError';
  }
}

/** Reads a connector definition file, applying `overrides` to its config. */
export function readConnectorDefinition(
  file: string,
  overrides: Record<string, string> = {},
): ConnectorDefinition {
  let def: ConnectorDefinition;
  try {
    def = JSON.parse(readFileSync(file, 'utf8')) as ConnectorDefinition;
  } catch (err) {
    throw new Error(`cannot read connector definition ${file}: ${(err as Error).message}`);
  }
  if (typeof def?.name !== 'string' || typeof def.config !== 'object' || def.config === null) {
    throw new Error(`${file} is not a connector definition: it needs {"name": "...", "config": {...}}`);
  }
  return {
    name: overrides.name ?? def.name,
    config: { ...def.config, ...overrides, name: overrides.name ?? def.name },
  };
}

/** The first line of a Java stack trace (the exception and its message), cut to `max` characters. */
export function traceHead(trace: string | undefined, max = 600): string {
  const line = (trace ?? '').split('\n')[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** A small client of Kafka Connect's REST API. */
export class ConnectClient {
  readonly url: string;
  constructor(url: string) {
    this.url = url.replace(/\/$/, '');
  }

  /** The worker's version; throws ConnectUnreachableError when nothing answers. */
  async info(): Promise<{ version: string; commit: string; kafka_cluster_id: string }> {
    return (await this.request<{ version: string; commit: string; kafka_cluster_id: string }>('GET', '/'))!;
  }

  /** Creates the connector or updates its config (PUT is idempotent). */
  async putConnector(def: ConnectorDefinition): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(def.name)}/config`, def.config);
  }

  /** The connector's stored config, or null when there is no such connector. */
  async connectorConfig(name: string): Promise<Record<string, string> | null> {
    return this.request<Record<string, string>>(
      'GET',
      `/connectors/${encodeURIComponent(name)}/config`,
      undefined,
      true,
    );
  }

  async status(name: string): Promise<ConnectorStatus | null> {
    return this.request<ConnectorStatus>(
      'GET',
      `/connectors/${encodeURIComponent(name)}/status`,
      undefined,
      true,
    );
  }

  /** Restarts the connector and its tasks (only the failed ones when `onlyFailed`). */
  async restartConnector(name: string, onlyFailed = true): Promise<void> {
    await this.request(
      'POST',
      `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=${onlyFailed}`,
    );
  }

  async deleteConnector(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${encodeURIComponent(name)}`, undefined, true);
  }

  async listConnectors(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/connectors')) ?? [];
  }

  /** Every connector with its config and status, in one request, sorted by name. */
  async overview(): Promise<ConnectorOverview[]> {
    const all =
      (await this.request<
        Record<string, { status: ConnectorStatus; info: { config: Record<string, string>; type?: string } }>
      >('GET', '/connectors?expand=status&expand=info')) ?? {};
    return Object.entries(all)
      .map(([name, c]) => ({ name, config: c.info.config, type: c.info.type, status: c.status }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Waits until the connector and all its tasks run, and have kept running for `settleMs`: Connect marks a task
   * RUNNING before the connector's own start (for Debezium: connecting, checking the slot) has finished, and
   * right after a config update it still shows the old tasks. A FAILED connector or task throws at once with
   * the first line of the worker's trace and what to do.
   */
  async waitRunning(name: string, timeoutMs = 60_000, settleMs = 0): Promise<ConnectorStatus> {
    const deadline = Date.now() + timeoutMs;
    let runningSince: number | null = null;
    for (;;) {
      const s = await this.status(name);
      const failed = s && describeFailure(s)?.replace(/\.$/, '');
      if (failed) {
        throw new Error(
          `connector ${name}: ${failed}. Fix the cause (full trace: GET ${this.url}/connectors/${encodeURIComponent(name)}/status, or the Kafka Connect worker log), then run \`npx iot-hub connectors apply\` again; it restarts failed connectors.`,
        );
      }
      if (
        s &&
        s.connector.state === 'RUNNING' &&
        s.tasks.length > 0 &&
        s.tasks.every((t) => t.state === 'RUNNING')
      ) {
        runningSince ??= Date.now();
        if (Date.now() - runningSince >= settleMs) return s;
      } else runningSince = null;
      if (Date.now() > deadline) {
        const tasks = s?.tasks.map((t) => `task ${t.id} ${t.state}`).join(', ') || 'no tasks';
        throw new Error(
          `connector ${name} is not RUNNING after ${Math.round(timeoutMs / 1000)} s (connector ${s?.connector.state ?? 'missing'}, ${tasks}); see the Kafka Connect worker log, then run \`npx iot-hub connectors apply\` again.`,
        );
      }
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
        // Creating a Debezium connector validates it against the database, which can take seconds.
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError')
        throw new Error(`Kafka Connect at ${this.url} did not answer ${method} ${path} within 60 s`);
      throw new ConnectUnreachableError(this.url, err);
    }
    if (allow404 && res.status === 404) return null;
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {}
      throw new Error(`Kafka Connect ${method} ${path} answered ${res.status}: ${message}`);
    }
    return text ? (JSON.parse(text) as T) : null;
  }
}

/** "task 0 FAILED on worker w: <trace head>" for the first failed part of a status, else undefined. */
function describeFailure(s: ConnectorStatus): string | undefined {
  if (s.connector.state === 'FAILED')
    return `connector FAILED on worker ${s.connector.worker_id}: ${traceHead(s.connector.trace)}`;
  const task = s.tasks.find((t) => t.state === 'FAILED');
  return task && `task ${task.id} FAILED on worker ${task.worker_id}: ${traceHead(task.trace)}`;
}
