// PostGraphile v5 (amber preset) on the warehouse's dw schema, the peer of bench/graphql.ts, in its own process
// so it gets a CPU and an event loop of its own like the hub does. Started by bench/graphql.ts with an IPC
// channel:   node bench/lib/postgraphile-peer.ts <database-url> <pool-max>
// It sends {type:'ready', port} once its schema is built and it listens on 127.0.0.1, and exits on {type:'stop'}.
//
// The facts carry no foreign keys (migrations/20261126000002_dw_facts.ts), so smart tags give PostGraphile the
// joins the hub makes: virtual foreign keys from the reading to its device, asset and metric, from the device
// to the asset it is installed on and from an asset to its site (asset_nk is unique among current rows only,
// a partial index PostGraphile does not use; the bench's assets have one version each, so @unique holds).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { jsonPgSmartTags } from 'postgraphile/utils';

export type PeerMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'cpu'; ms: number };

const smartTags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      'dw.fact_sensor_reading': {
        tags: {
          foreignKey: [
            '(device_sk) references dw.dim_device (device_sk)|@fieldName device|@foreignFieldName readings',
            '(asset_sk) references dw.dim_asset (asset_sk)|@fieldName asset|@foreignFieldName readings',
            '(metric_sk) references dw.dim_metric (metric_sk)|@fieldName metric|@foreignFieldName readings',
          ],
        },
      },
      'dw.dim_device': {
        tags: {
          foreignKey:
            '(installed_asset_nk) references dw.dim_asset (asset_nk)|@fieldName installedAsset|@foreignFieldName installedDevices',
        },
      },
      'dw.dim_asset': {
        tags: {
          unique: 'asset_nk',
          foreignKey:
            '(site_nk) references dw.dim_asset (asset_nk)|@fieldName site|@foreignFieldName siteAssets',
        },
      },
    },
  },
});

const [url, poolMax] = process.argv.slice(2);
if (!url || !poolMax || !process.send) {
  console.error(
    'usage (from bench/graphql.ts only): node bench/lib/postgraphile-peer.ts <database-url> <pool-max>',
  );
  process.exit(2);
}
const send = (m: PeerMessage) => process.send?.(m);

try {
  const pgl = postgraphile({
    extends: [PostGraphileAmberPreset],
    plugins: [smartTags],
    pgServices: [
      makePgService({ connectionString: url, schemas: ['dw'], poolConfig: { max: Number(poolMax) } }),
    ],
    // No GraphiQL (Ruru), no watch mode: the peer's plain query path (fairness notes in docs/graphql.md).
    grafserv: { graphiql: false, watch: false },
  });
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  serv.addTo(server);
  await serv.ready();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
  process.on('message', (m: { type?: string }) => {
    // CPU time used so far (user + system), so the bench can divide it by the requests served.
    if (m?.type === 'cpu') {
      const cpu = process.cpuUsage();
      send({ type: 'cpu', ms: (cpu.user + cpu.system) / 1000 });
      return;
    }
    if (m?.type !== 'stop') return;
    server.close();
    void Promise.resolve(pgl.release()).finally(() => process.exit(0));
  });
} catch (err) {
  send({ type: 'error', message: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
  process.disconnect();
}
