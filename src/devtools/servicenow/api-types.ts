import type { IncomingHttpHeaders } from 'node:http';
import type { AccessControl } from './access-control.ts';
import type { RecordStore } from './record-store.ts';
import type { TableRegistry } from './table-registry.ts';
import type { ActingUser, TableRule } from './write-record.ts';

/** The emulator's state and settings, shared by the API handlers. */
export interface EmulatorContext {
  registry: TableRegistry;
  store: RecordStore;
  rules: ReadonlyMap<string, TableRule>;
  now: () => number;
  invalidQueryReturnsNoRows: boolean;
  /** Valid `sysparm_data_source` values for IRE (the `discovery_source` choices). */
  dataSources: readonly string[];
  access: AccessControl;
  /** String comparisons of encoded queries ignore case unless this is set (docs/servicenow-emulator.md). */
  caseSensitiveQueries: boolean;
}

/** An authenticated API request after the server's pipeline (faults, auth, rate limit) let it through. */
export interface ApiRequest {
  /** After `X-HTTP-Method-Override`. */
  method: string;
  /** Absolute URL of the request, as the client addressed the emulator. */
  url: URL;
  /** `http://host:port` used in reference links, `Location` and `Link`. */
  baseUrl: string;
  user: ActingUser;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-encoded by the server; undefined sends no body. */
  body?: unknown;
}
