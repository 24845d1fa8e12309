import type { AuthSource } from './auth-source.ts';

/** Basic authentication: the same header on every call, nothing to refresh. */
export class BasicAuth implements AuthSource {
  readonly #header: string;
  constructor(username: string, password: string) {
    this.#header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  async header(): Promise<string> {
    return this.#header;
  }
  invalidate(): boolean {
    return false;
  }
}
