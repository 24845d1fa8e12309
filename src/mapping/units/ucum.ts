import { createRequire } from 'node:module';

interface UcumUtils {
  convertUnitTo(
    from: string,
    value: number,
    to: string,
  ): { status: string; toVal: number | null; msg: string[] };
  validateUnitString(
    unit: string,
    suggest?: boolean,
  ): { status: string; ucumCode: string | null; msg: string[] };
}

let utils: UcumUtils | undefined;

// @lhncbc/ucum-lhc loads its unit tables on first use (~25 ms), so mappings that never convert do not pay it.
function ucum(): UcumUtils {
  if (!utils) {
    const require = createRequire(import.meta.url);
    const pkg = require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } };
    utils = pkg.UcumLhcUtils.getInstance();
  }
  return utils;
}

export type UcumCheck = { valid: true } | { valid: false; suggestion: string | null };

/** Whether `code` is a valid UCUM unit expression, and UCUM's suggested code when it is not. */
export function checkUcumCode(code: string): UcumCheck {
  const result = ucum().validateUnitString(code, true);
  if (result.status === 'valid') return { valid: true };
  return { valid: false, suggestion: result.ucumCode && result.ucumCode !== code ? result.ucumCode : null };
}

/** UCUM's conversion of one value, or null when the units are not commensurable. */
export function ucumConvert(from: string, value: number, to: string): number | null {
  const result = ucum().convertUnitTo(from, value, to);
  return result.status === 'succeeded' && typeof result.toVal === 'number' ? result.toVal : null;
}
