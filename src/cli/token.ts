import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { DEFAULT_POLICY_FILE, jwtSecret, loadPolicy, localSecretFile } from '../graphql/governance/index.ts';
import type { WriteLine } from './tickets.ts';

export interface TokenOptions {
  role: string;
  sites?: string[];
  /** How long the token is valid: jose's time span, e.g. 30m, 1h, 7d. */
  ttl: string;
  subject: string;
  policyFile: string;
}

/**
 * `iot-hub token --role <role>`: a JWT signed for the local configuration, for people trying the API and for
 * tests (docs/graphql.md, "Tokens for trying the API"). The token alone goes to `out` (so
 * `TOKEN=$(iot-hub token --role analyst)` works), explanations to `err`. Exit code 0, or 1 when the role, sites
 * or ttl do not fit the policy.
 */
export async function tokenCommand(o: TokenOptions, out: WriteLine, err: WriteLine): Promise<number> {
  const policy = loadPolicy(o.policyFile);
  const jwt = policy.auth.jwt;
  if (!jwt?.secretEnv) {
    err(
      `iot-hub: ${o.policyFile} ${jwt ? `verifies tokens with the identity provider's JWKS (${jwt.jwksUrl}); get a token from it` : 'accepts no JWTs (no auth.jwt)'}, or use an API key (iot-hub graphql api-key create)`,
    );
    return 1;
  }
  const role = policy.roles.get(o.role);
  if (!role?.enabled) {
    const roles = [...policy.roles.values()].filter((r) => r.enabled).map((r) => r.name);
    err(`iot-hub: role '${o.role}' is not an enabled role of ${o.policyFile} (roles: ${roles.join(', ')})`);
    return 1;
  }
  if (role.rowFilter === 'claim' && !o.sites?.length) {
    err(`iot-hub: role '${o.role}' sees only listed sites: give them with --sites S1,S2`);
    return 1;
  }
  const claims: Record<string, unknown> = { [jwt.roleClaim]: role.name };
  if (o.sites?.length) claims[jwt.sitesClaim] = o.sites;
  claims[jwt.subjectClaim] = o.subject;
  const token = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (jwt.issuer) token.setIssuer(jwt.issuer);
  if (jwt.audience) token.setAudience(jwt.audience);
  try {
    token.setExpirationTime(o.ttl);
  } catch {
    err(`iot-hub: --ttl '${o.ttl}' is not a time span; write it like 30m, 1h, 12h or 7d`);
    return 1;
  }
  out(await token.sign(jwtSecret(jwt)));
  const from = process.env[jwt.secretEnv]
    ? `the secret in $${jwt.secretEnv}`
    : `the local secret ${localSecretFile()}`;
  err(
    `Token for role '${role.name}'${o.sites?.length ? ` (sites ${o.sites.join(', ')})` : ''}, valid ${o.ttl}, signed with ${from}; send it as 'Authorization: Bearer <token>'.`,
  );
  return 0;
}

/** Registers `token` on the iot-hub program (src/cli/index.ts). */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print a JWT for the local GraphQL API, signed with its local secret (docs/graphql.md)')
    .requiredOption('--role <role>', 'a role of the policy file: admin, analyst, viewer, bi-service')
    .option('--sites <sites>', 'comma-separated site keys, for a role that sees only its sites (viewer)')
    .option('--ttl <span>', 'how long it is valid, e.g. 30m, 1h, 7d', '1h')
    .option('--subject <name>', 'who the token stands for (the audit log shows it)', 'local-user')
    .option('--policy <file>', 'the policy file', DEFAULT_POLICY_FILE)
    .action(async (o: { role: string; sites?: string; ttl: string; subject: string; policy: string }) => {
      const sites = o.sites
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      process.exitCode = await tokenCommand(
        { role: o.role, sites, ttl: o.ttl, subject: o.subject, policyFile: o.policy },
        console.log,
        console.error,
      );
    });
}
