import type { CheckName, CheckResult, QartodFlag } from './types.ts';

// Aggregation order: a missing value outranks everything, then fail, suspect, pass; "not evaluated" only
// when no check was evaluated (docs/data-quality.md, "Checks and QARTOD flags").
const rank: Readonly<Record<QartodFlag, number>> = { 2: 0, 1: 1, 3: 2, 4: 3, 9: 4 };

/** The aggregate QARTOD flag of several checks: the worst one. */
export function worstFlag(flags: readonly QartodFlag[]): QartodFlag {
  let worst: QartodFlag = 2;
  for (const f of flags) if (rank[f] > rank[worst]) worst = f;
  return worst;
}

export function severityOf(flag: QartodFlag): CheckResult['severity'] {
  return flag === 4 || flag === 9 ? 'fail' : flag === 3 ? 'warn' : 'info';
}

export function result(
  check: CheckName,
  flag: QartodFlag,
  observed: number | null,
  threshold: number | null,
  details: Record<string, unknown> = {},
): CheckResult {
  return { check, flag, severity: severityOf(flag), observed, threshold, details };
}

/** A check that could not be evaluated (flag 2), with the reason a person reads in the event details. */
export function notEvaluated(check: CheckName, reason: string, details: Record<string, unknown> = {}) {
  return result(check, 2, null, null, { reason, ...details });
}
