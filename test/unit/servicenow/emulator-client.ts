import {
  type ServiceNowEmulator,
  type ServiceNowEmulatorOptions,
  startServiceNowEmulator,
} from '../../../src/devtools/servicenow/index.ts';

export interface CallOptions {
  body?: unknown;
  /** Raw body text; wins over `body`. */
  text?: string;
  /** `false` sends no Authorization header; a string is sent as is. Default: Basic admin/admin. */
  auth?: false | string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON answers
  json: any;
}

export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A started emulator plus a small fetch wrapper that speaks to it as an integration user would. */
export async function startEmulator(options: ServiceNowEmulatorOptions = {}) {
  const emulator: ServiceNowEmulator = await startServiceNowEmulator({ port: 0, ...options });
  const call = async (method: string, path: string, opts: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.auth !== false) headers.Authorization = opts.auth ?? basicAuth('admin', 'admin');
    let body: string | undefined = opts.text;
    if (body === undefined && opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(`${emulator.url}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return { emulator, call };
}
