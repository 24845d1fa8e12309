import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isMap, isSeq, parseDocument } from 'yaml';
import { createApiKey, DEFAULT_POLICY_FILE, loadPolicy } from '../graphql/governance/index.ts';
import type { WriteLine } from './tickets.ts';

export interface ApiKeyCreateOptions {
  role: string;
  sites?: string[];
  policyFile: string;
  /** Add the entry to the policy file (comments and layout kept) instead of only printing it. */
  write: boolean;
}

/**
 * `iot-hub graphql api-key create <name> --role <role>`: a new API key for a BI service account. The key is
 * printed once; the policy file keeps only its sha256 (docs/graphql.md, "Authentication"). Exit code 0, or 1
 * when the role or name does not fit the policy.
 */
export function apiKeyCreateCommand(name: string, o: ApiKeyCreateOptions, write: WriteLine): number {
  const policy = loadPolicy(o.policyFile);
  const role = policy.roles.get(o.role);
  if (!role?.enabled) {
    const roles = [...policy.roles.values()].filter((r) => r.enabled).map((r) => r.name);
    write(`iot-hub: role '${o.role}' is not an enabled role of ${o.policyFile} (roles: ${roles.join(', ')})`);
    return 1;
  }
  if (policy.auth.apiKeys.some((k) => k.name === name)) {
    write(
      `iot-hub: ${o.policyFile} already has an API key named '${name}'; remove it first or choose another name`,
    );
    return 1;
  }
  if (role.rowFilter === 'claim' && !o.sites?.length) {
    write(`iot-hub: role '${o.role}' sees only listed sites: give them with --sites S1,S2`);
    return 1;
  }
  const { key, sha256 } = createApiKey();
  const entry = { name, sha256, role: o.role, ...(o.sites?.length ? { sites: o.sites } : {}) };
  if (o.write) addToPolicyFile(o.policyFile, entry);
  write(`API key for '${name}' (role ${o.role}); shown only now, store it in the BI tool's secret store:`);
  write('');
  write(`  ${key}`);
  write('');
  write(`Send it as header '${policy.auth.apiKeyHeader}: <key>' (or 'Authorization: ApiKey <key>').`);
  if (o.write) write(`Added to auth.api_keys in ${o.policyFile}; restart the hub to load it.`);
  else {
    write(`Add this entry under auth.api_keys in ${o.policyFile} (or run again with --write):`);
    write(
      `  - { name: ${name}, sha256: ${sha256}, role: ${o.role}${o.sites?.length ? `, sites: [${o.sites.join(', ')}]` : ''} }`,
    );
  }
  return 0;
}

function addToPolicyFile(file: string, entry: Record<string, unknown>): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const keys = doc.getIn(['auth', 'api_keys']);
  const node = doc.createNode(entry);
  node.flow = true;
  if (isSeq(keys)) {
    keys.flow = false;
    keys.add(node);
  } else {
    const auth = doc.get('auth');
    if (auth !== undefined && !isMap(auth)) throw new Error(`${file}: auth is not a map`);
    doc.setIn(['auth', 'api_keys'], doc.createNode([entry]));
    const seq = doc.getIn(['auth', 'api_keys']);
    if (isSeq(seq)) for (const item of seq.items) if (isMap(item)) item.flow = true;
  }
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  // Whatever was written must still load: a broken file would stop the hub at its next start.
  loadPolicy(file);
}

/** Registers `graphql api-key create` on the iot-hub program (src/cli/index.ts). */
export function registerGraphqlCommand(program: Command): void {
  const graphql = program.command('graphql').description('the governed GraphQL API (docs/graphql.md)');
  const apiKey = graphql.command('api-key').description('API keys of BI service accounts');
  apiKey
    .command('create <name>')
    .description('create an API key: prints the key once and its sha256 entry for schema/policy.yaml')
    .requiredOption('--role <role>', 'a role of the policy file, e.g. bi-service')
    .option('--sites <sites>', 'comma-separated site keys, for a role with row_filter: sites')
    .option('--policy <file>', 'the policy file', DEFAULT_POLICY_FILE)
    .option('--write', 'add the entry to the policy file')
    .action((name: string, o: { role: string; sites?: string; policy: string; write?: boolean }) => {
      const sites = o.sites
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      process.exitCode = apiKeyCreateCommand(
        name,
        { role: o.role, sites, policyFile: o.policy, write: o.write ?? false },
        console.log,
      );
    });
}
