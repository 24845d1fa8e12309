import type { Random } from './random.ts';

/**
 * Breaks a JSON text the way faulty gateways do, so that JSON.parse rejects it: cut short (a dropped
 * packet), a stray closing brace after the document, or single quotes (a hand-rolled serializer).
 * Returns the broken text and a sentence saying how it is broken.
 */
export function breakJson(json: string, random: Random): { value: string; detail: string } {
  const variant = random.int(0, 2);
  let broken: { value: string; detail: string };
  if (variant === 0) {
    const cut = Math.max(1, Math.floor(json.length * random.between(0.3, 0.9)));
    broken = { value: json.slice(0, cut), detail: `truncated after ${cut} of ${json.length} bytes` };
  } else if (variant === 1) {
    broken = { value: `${json}}`, detail: 'a stray closing brace after the document' };
  } else {
    broken = { value: json.replaceAll('"', "'"), detail: 'single-quoted strings' };
  }
  // Every variant above fails to parse for an object document; the check keeps that a guarantee.
  try {
    JSON.parse(broken.value);
  } catch {
    return broken;
  }
  return { value: json.slice(0, -1), detail: `truncated after ${json.length - 1} of ${json.length} bytes` };
}
