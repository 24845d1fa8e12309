/**
 * An error answer in the platform's envelope `{"error":{"message","detail"},"status":"failure"}`.
 * Handlers throw it; the server turns it into the HTTP answer with its status and extra headers.
 */
export class ApiFailure extends Error {
  readonly status: number;
  readonly detail: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, detail: string | null, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }

  /** The JSON body the instance sends for this failure. */
  body(): { error: { message: string; detail: string | null }; status: 'failure' } {
    return { error: { message: this.message, detail: this.detail }, status: 'failure' };
  }
}

// The documented bodies, word for word where ServiceNow documents them.

export function notAuthenticated(scheme: 'Basic' | 'BEARER'): ApiFailure {
  return new ApiFailure(401, 'User Not Authenticated', 'Required to provide Auth information', {
    'WWW-Authenticate': `${scheme} realm="Service-now"`,
  });
}

export function noRecordFound(): ApiFailure {
  return new ApiFailure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
}

/** v1 list with no match. The detail text is remembered from real instances, not documented. */
export function noRecordsMatchingQuery(): ApiFailure {
  return new ApiFailure(
    404,
    'No Record found',
    'Records matching query not found. Check query parameter or offset parameter',
  );
}

export function invalidTable(table: string): ApiFailure {
  return new ApiFailure(400, `Invalid table ${table}`, null);
}

export function invalidLimit(): ApiFailure {
  return new ApiFailure(
    400,
    'Invalid value given for sysparm_limit',
    'sysparm_limit value must be a positive integer',
  );
}

export function negativeOffset(offset: string): ApiFailure {
  return new ApiFailure(400, `offset is ${offset}`, 'Negative offset is not supported');
}

export function invalidJson(): ApiFailure {
  return new ApiFailure(400, 'Exception while reading request', 'The payload is not valid JSON.');
}

export function payloadTooLarge(length: number, max: number): ApiFailure {
  return new ApiFailure(
    400,
    'Exception while reading request',
    `Rejected large REST payload with content-length = ${length} bytes. Max allowed: ${max} bytes.`,
  );
}

/** The 400 for a path that names no API; text as real instances send it (not in the docs). */
export function unknownResource(): ApiFailure {
  return new ApiFailure(400, 'Requested URI does not represent any resource', null);
}

export function methodNotSupported(method: string): ApiFailure {
  return new ApiFailure(
    405,
    'Method not Supported',
    `HTTP method ${method} is not supported by this resource`,
  );
}

/** A data policy; the envelope's `message` is unconfirmed, the detail's wording is the reported one. */
export function dataPolicyException(mandatoryLabels: string[]): ApiFailure {
  return new ApiFailure(
    403,
    'Operation Failed',
    `Data Policy Exception: The following fields are mandatory: ${mandatoryLabels.join(', ')}`,
  );
}
