import type { FaultRule, ServiceNowFaults } from './faults.ts';

/** The `--faults` syntax, for the CLI help and error messages. */
export const faultSpecHelp =
  'comma-separated: 5xx=RATE[:TIMES], 429=RATE[:TIMES], maintenance=RATE[:TIMES], lost-response=RATE[:TIMES], ' +
  'latency=MS[-MAXMS], lost-response-mode=hang|reset, 429-headers=true|false ' +
  '(RATE is a share 0–1; e.g. "5xx=0.05,latency=20-200,lost-response=0.02")';

/** Parses a `--faults` string into fault settings; throws a sentence naming the bad item and the syntax. */
export function parseFaultSpec(spec: string): ServiceNowFaults {
  const faults: ServiceNowFaults = {};
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [key = '', value = ''] = item.split('=', 2);
    const fail = (): never => {
      throw new Error(`invalid fault "${item}"; expected ${faultSpecHelp}`);
    };
    switch (key) {
      case '5xx':
        faults.serverError = { ...faults.serverError, ...readRule(value, fail) };
        break;
      case '429':
        faults.tooManyRequests = { ...faults.tooManyRequests, ...readRule(value, fail) };
        break;
      case 'maintenance':
        faults.maintenancePage = readRule(value, fail);
        break;
      case 'lost-response':
        faults.lostResponse = { ...faults.lostResponse, ...readRule(value, fail) };
        break;
      case 'lost-response-mode':
        if (value !== 'hang' && value !== 'reset') fail();
        faults.lostResponse = { rate: 0, ...faults.lostResponse, mode: value as 'hang' | 'reset' };
        break;
      case '429-headers':
        if (value !== 'true' && value !== 'false') fail();
        faults.tooManyRequests = { rate: 0, ...faults.tooManyRequests, headers: value === 'true' };
        break;
      case 'latency': {
        const match = /^(\d+)(?:-(\d+))?$/.exec(value) ?? fail();
        const ms = Number(match[1]);
        const maxMs = match[2] === undefined ? undefined : Number(match[2]);
        if (maxMs !== undefined && maxMs < ms) fail();
        faults.latency = { rate: 1, ms, ...(maxMs === undefined ? {} : { maxMs }) };
        break;
      }
      default:
        fail();
    }
  }
  return faults;
}

function readRule(value: string, fail: () => never): FaultRule {
  const match = /^(\d*\.?\d+)(?::(\d+))?$/.exec(value) ?? fail();
  const rate = Number(match[1]);
  if (rate > 1) fail();
  return match[2] === undefined ? { rate } : { rate, times: Number(match[2]) };
}
