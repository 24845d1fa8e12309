/** Something that supplies the Authorization header of a ServiceNow request. */
export interface AuthSource {
  header(): Promise<string>;
  /**
   * Drops the credential behind `header` after a 401, so the next header() fetches a fresh one. Returns
   * false when nothing can be refreshed (Basic), and the 401 is final.
   */
  invalidate(header: string): boolean;
}
