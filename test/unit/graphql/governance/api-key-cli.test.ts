import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiKeyCreateCommand } from '../../../../src/cli/graphql.ts';
import { authenticate, loadPolicy } from '../../../../src/graphql/governance/index.ts';

function copyOfPolicy(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'g2-cli-')), 'policy.yaml');
  copyFileSync('schema/policy.yaml', file);
  return file;
}

describe('iot-hub graphql api-key create', () => {
  it('prints a key once and, with --write, stores only its hash; the key then authenticates', async () => {
    const file = copyOfPolicy();
    const lines: string[] = [];
    const code = apiKeyCreateCommand('tableau', { role: 'bi-service', policyFile: file, write: true }, (l) =>
      lines.push(l),
    );
    expect(code).toBe(0);
    const key = lines.find((l) => l.trim().startsWith('hub_'))!.trim();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    expect(text).toContain('# Governance of the hub'); // comments kept
    const principal = await authenticate({ 'x-api-key': key }, loadPolicy(file));
    expect(principal).toMatchObject({ subject: 'tableau', role: 'bi-service', kind: 'service' });
  });

  it('prints the entry to add without --write, with the sites of a site-filtered role', () => {
    const lines: string[] = [];
    const file = copyOfPolicy();
    const code = apiKeyCreateCommand(
      'plant-board',
      { role: 'viewer', sites: ['S1', 'S2'], policyFile: file, write: false },
      (l) => lines.push(l),
    );
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatch(
      /^ {2}- \{ name: plant-board, sha256: [0-9a-f]{64}, role: viewer, sites: \[S1, S2\] \}$/,
    );
    expect(readFileSync(file, 'utf8')).toBe(readFileSync('schema/policy.yaml', 'utf8'));
  });

  it('refuses an unknown role, naming the roles', () => {
    const lines: string[] = [];
    expect(
      apiKeyCreateCommand('x', { role: 'bi', policyFile: 'schema/policy.yaml', write: false }, (l) =>
        lines.push(l),
      ),
    ).toBe(1);
    expect(lines).toEqual([
      "iot-hub: role 'bi' is not an enabled role of schema/policy.yaml (roles: admin, analyst, viewer, bi-service)",
    ]);
  });
});
