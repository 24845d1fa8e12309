import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { payloadTooLarge } from './api-failure.ts';

/** Headers a real instance sends on every answer, minus session cookies. */
export function platformHeaders(): Record<string, string> {
  return {
    Server: 'ServiceNow',
    'X-Transaction-ID': randomBytes(6).toString('hex'),
    'Cache-Control': 'no-cache,no-store,must-revalidate,max-age=-1',
    Pragma: 'no-store,no-cache',
    Expires: '0',
  };
}

/**
 * Reads the request body as text. A declared or actual size above `maxBytes` throws the documented 400
 * (`glide.rest.max_content_length`, 10 MB by default).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw payloadTooLarge(declared, maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw payloadTooLarge(size, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An answer ready to write: status, headers, and the body text (JSON already encoded). */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  text?: string;
}

export function jsonAnswer(status: number, headers: Record<string, string>, body: unknown): WireAnswer {
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (text === undefined) return { status, headers };
  return { status, headers: { ...headers, 'Content-Type': 'application/json;charset=UTF-8' }, text };
}

export function htmlAnswer(status: number, headers: Record<string, string>, html: string): WireAnswer {
  return { status, headers: { ...headers, 'Content-Type': 'text/html;charset=UTF-8' }, text: html };
}

/** Writes an answer; HEAD and 204 carry no body. */
export function writeAnswer(res: ServerResponse, method: string, answer: WireAnswer): void {
  res.writeHead(answer.status, answer.headers);
  if (method === 'HEAD' || answer.status === 204 || answer.text === undefined) res.end();
  else res.end(answer.text);
}
