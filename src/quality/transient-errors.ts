/**
 * SQLSTATEs after which the same statement can succeed later: connection exceptions (class 08), the server
 * shutting down or starting (57P01–57P03), too many connections or out of resources (class 53), and
 * serialization failures and deadlocks (40001, 40P01), whose transaction was rolled back.
 */
const transientStates = /^(08...|57P0[123]|53...|40001|40P01)$/;
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
// node-postgres and knex report a lost connection or an exhausted pool only in the message.
const transientMessages =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Timeout acquiring a connection|Client was closed/i;

/**
 * Whether a database error is worth retrying as it stands: the connection or server failed, not the statement.
 * Constraint violations, syntax and permission errors are permanent.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (transientStates.test(code) || transientCodes.has(code))) return true;
  if (err.name === 'KnexTimeoutError') return true;
  if (transientMessages.test(err.message)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isTransientDatabaseError(cause);
}
