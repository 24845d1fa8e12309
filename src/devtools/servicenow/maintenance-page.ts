/**
 * What a hibernating or upgrading instance answers, with HTTP 200 and text/html. The wording is
 * ours; the point is a 2xx whose body is not the JSON envelope, which a client must treat as a failure.
 */
export const maintenancePageHtml = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Instance Hibernating page</title></head>
<body>
<h1>Your instance is hibernating</h1>
<p>This instance is unavailable while it is hibernating or under maintenance. Sign in to wake it up, then retry.</p>
</body>
</html>
`;

/** The HTML body of a 502/503/504 from the load balancer in front of an instance (our wording). */
export function gatewayErrorHtml(status: number): string {
  const title = status === 502 ? 'Bad Gateway' : status === 504 ? 'Gateway Timeout' : 'Service Unavailable';
  return `<!DOCTYPE html>\n<html><head><title>${status} ${title}</title></head><body><h1>${title}</h1></body></html>\n`;
}
