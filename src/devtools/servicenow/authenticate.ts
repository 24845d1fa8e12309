import type { IncomingHttpHeaders } from 'node:http';
import { notAuthenticated } from './api-failure.ts';
import type { TokenStore } from './oauth-tokens.ts';

/**
 * Who sent a request: Basic credentials or a Bearer token. Returns the user name; throws the
 * documented 401 with `WWW-Authenticate: Basic …`, or `BEARER …` when a bad token was sent.
 */
export function authenticate(
  headers: IncomingHttpHeaders,
  passwords: ReadonlyMap<string, string>,
  tokens: TokenStore,
): string {
  const header = headers.authorization ?? '';
  const [scheme = '', credentials = ''] = header.split(' ', 2);
  if (scheme.toLowerCase() === 'bearer') {
    const user = tokens.userOf(credentials.trim());
    if (!user) throw notAuthenticated('BEARER');
    return user;
  }
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    if (colon > 0 && passwords.get(user) === decoded.slice(colon + 1)) return user;
  }
  throw notAuthenticated('Basic');
}
