import { randomBytes } from 'node:crypto';

export interface OAuthToken {
  accessToken: string;
  /** Only password grants get one; refresh and client-credentials answers carry an access token only. */
  refreshToken?: string;
  clientId: string;
  userName: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface TokenStoreOptions {
  now: () => number;
  /** Access token lifespan, seconds; the docs' default is 1800. */
  accessTokenSeconds: number;
  /** Refresh token lifespan, seconds; the platform's default is 100 days. */
  refreshTokenSeconds: number;
}

/** Issued OAuth tokens. "A request made while the access token is still valid returns the current token". */
export interface TokenStore {
  /** The still-valid token of this client and user, or a new one; with a refresh token only when asked. */
  issue(clientId: string, userName: string, withRefreshToken: boolean): OAuthToken;
  /** The token for a refresh token of this client, or undefined when it is unknown or expired. */
  refresh(clientId: string, refreshToken: string): OAuthToken | undefined;
  /** The user name behind a valid access token, or undefined (expired, revoked or unknown). */
  userOf(accessToken: string): string | undefined;
  /** Makes every access token expire now; refresh tokens stay valid (a test's "token expired mid-run"). */
  expireAccessTokens(): void;
}

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const byAccess = new Map<string, OAuthToken>();
  // Refresh token → the client and user it was issued to, with its own expiry.
  const refreshTokens = new Map<string, { clientId: string; userName: string; expiresAt: number }>();
  const current = new Map<string, OAuthToken>();
  const token = () => randomBytes(64).toString('base64url');

  const issue = (clientId: string, userName: string, withRefreshToken: boolean): OAuthToken => {
    const key = `${clientId}\u0000${userName}`;
    let issued = current.get(key);
    if (!issued || issued.expiresAt <= options.now()) {
      issued = {
        accessToken: token(),
        clientId,
        userName,
        expiresAt: options.now() + options.accessTokenSeconds * 1000,
      };
      byAccess.set(issued.accessToken, issued);
      current.set(key, issued);
    }
    if (!withRefreshToken) {
      const { refreshToken: _omitted, ...accessOnly } = issued;
      return accessOnly;
    }
    if (!issued.refreshToken) {
      issued.refreshToken = token();
      refreshTokens.set(issued.refreshToken, {
        clientId,
        userName,
        expiresAt: options.now() + options.refreshTokenSeconds * 1000,
      });
    }
    return { ...issued };
  };

  return {
    issue,
    refresh(clientId, refreshToken) {
      const grant = refreshTokens.get(refreshToken);
      if (!grant || grant.clientId !== clientId || grant.expiresAt <= options.now()) return undefined;
      return issue(clientId, grant.userName, false);
    },
    userOf(accessToken) {
      const found = byAccess.get(accessToken);
      return found && found.expiresAt > options.now() ? found.userName : undefined;
    },
    expireAccessTokens() {
      const now = options.now();
      for (const t of byAccess.values()) t.expiresAt = Math.min(t.expiresAt, now);
    },
  };
}
