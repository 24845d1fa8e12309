// Messages between the mapping runtime and its JSONata worker (jsonata-sandbox.ts, jsonata-worker.ts).

/** Guardrails for the escape hatch (JSONata itself has no timeout or stack limit, so the hub sets both). */
export interface JsonataLimits {
  timeoutMs: number;
  stack: number;
  sequence: number;
}

/** Result size cap: string characters plus one per value. A bigger result is JSONATA_LIMIT. */
export const MAX_RESULT_SIZE = 1_000_000;
/** Result nesting cap. */
export const MAX_RESULT_DEPTH = 100;

export interface JsonataRequest {
  id: number;
  text: string;
  limits: JsonataLimits;
  input: unknown;
  bindings: Record<string, unknown>;
}

export type JsonataReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; kind: 'size'; message: string }
  | {
      id: number;
      ok: false;
      kind: 'jsonata';
      code: string | undefined;
      position: number | undefined;
      message: string;
    };
