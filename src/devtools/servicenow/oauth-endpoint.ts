import type { IncomingHttpHeaders } from 'node:http';
import type { ApiResponse } from './api-types.ts';
import type { TokenStore } from './oauth-tokens.ts';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  /** `glide.oauth.inbound.client.credential.grant_type.enabled`; off, the grant fails like a bad secret. */
  clientCredentialsGrant: boolean;
  /** The client's "OAuth Application User": who a client-credentials token acts as. */
  applicationUser: string;
  /** user name → password, for the password grant. */
  passwords: ReadonlyMap<string, string>;
}

/**
 * `POST /oauth_token.do`: form-encoded only; password, refresh_token and client_credentials
 * grants. Every failure is the same 401 `{"error_description":"access_denied","error":"server_error"}`.
 */
export function handleOAuthToken(
  settings: OAuthSettings,
  tokens: TokenStore,
  now: () => number,
  method: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
): ApiResponse {
  const denied: ApiResponse = {
    status: 401,
    body: { error_description: 'access_denied', error: 'server_error' },
  };
  // A JSON body "results in an unspecified error": we answer it with the generic failure.
  const formEncoded = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (method !== 'POST' || !formEncoded) return denied;
  const form = new URLSearchParams(rawBody);
  if (form.get('client_id') !== settings.clientId || form.get('client_secret') !== settings.clientSecret)
    return denied;

  const grant = (() => {
    switch (form.get('grant_type')) {
      case 'password': {
        const user = form.get('username') ?? '';
        const ok = settings.passwords.get(user) === form.get('password');
        return ok ? tokens.issue(settings.clientId, user, true) : undefined;
      }
      case 'refresh_token':
        return tokens.refresh(settings.clientId, form.get('refresh_token') ?? '');
      case 'client_credentials':
        return settings.clientCredentialsGrant
          ? tokens.issue(settings.clientId, settings.applicationUser, false)
          : undefined;
      default:
        return undefined;
    }
  })();
  if (!grant) return denied;
  // A fresh token reports one second less than its lifespan, as the docs' examples show (1799 of 1800).
  const expiresIn = Math.max(0, Math.floor((grant.expiresAt - now() - 1) / 1000));
  return {
    status: 200,
    body: {
      scope: 'useraccount',
      token_type: 'Bearer',
      expires_in: expiresIn,
      ...(grant.refreshToken ? { refresh_token: grant.refreshToken } : {}),
      access_token: grant.accessToken,
    },
  };
}
