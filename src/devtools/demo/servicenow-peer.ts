import type { HubConfig } from '../../config/index.ts';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../servicenow/index.ts';

const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Starts the ServiceNow emulator in this process as the demo's ticket peer, with the credentials of
 * config.servicenow.auth. It takes the port of config.servicenow.url when that URL is local and the port is
 * free, and any free port otherwise; the caller points the hub at `emulator.url`.
 */
export async function startDemoServiceNow(config: HubConfig): Promise<ServiceNowEmulator> {
  const { auth } = config.servicenow;
  const options = {
    host: '127.0.0.1',
    user: { username: auth.username, password: auth.password },
    oauthClient: { clientId: auth.clientId, clientSecret: auth.clientSecret },
  };
  const configured = new URL(config.servicenow.url);
  const port = Number(configured.port || (configured.protocol === 'https:' ? 443 : 80));
  if (loopback.has(configured.hostname)) {
    try {
      return await startServiceNowEmulator({ ...options, port });
    } catch (err) {
      // Another emulator or demo has the port: this run gets its own, so its incidents stay apart.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  return startServiceNowEmulator({ ...options, port: 0 });
}

/** An incident as the demo lists it: display values from the Table API. */
export interface DemoIncident {
  number: string;
  short_description: string;
  correlation_id: string;
  state: string;
}

/**
 * The incidents whose correlation_id starts with `correlationPrefix`, read back through the Table API as a
 * ServiceNow user would see them (state as its label, e.g. New or Resolved), oldest first.
 */
export async function listIncidents(
  emulator: ServiceNowEmulator,
  correlationPrefix: string,
): Promise<DemoIncident[]> {
  const { username, password } = emulator.credentials;
  const url = new URL('/api/now/table/incident', emulator.url);
  url.searchParams.set('sysparm_query', `correlation_idSTARTSWITH${correlationPrefix}^ORDERBYnumber`);
  url.searchParams.set('sysparm_fields', 'number,short_description,correlation_id,state');
  url.searchParams.set('sysparm_display_value', 'true');
  url.searchParams.set('sysparm_limit', '1000');
  const res = await fetch(url, {
    headers: {
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    },
  });
  if (!res.ok)
    throw new Error(`the ServiceNow emulator answered ${res.status} to ${url.pathname}: ${await res.text()}`);
  const body = (await res.json()) as { result: DemoIncident[] };
  return body.result;
}
