import { createRequire } from 'node:module';
import { ConfigError, loadYamlFile, type ValidatedYaml, validateYaml } from '../../config/index.ts';
import { parseDuration } from '../alert-rules.ts';
import type { CheckParameters } from './types.ts';

const require = createRequire(import.meta.url);
/** connectors/quality-rules.schema.json; connectors/quality-rules.yaml names it for editors too. */
const schema = require('../../../connectors/quality-rules.schema.json') as object;

export const DEFAULT_RULES_FILE = 'connectors/quality-rules.yaml';

/**
 * Built-in defaults (docs/data-quality.md, "Rules file"), from the QARTOD check catalogue: the rules file's
 * `defaults:` section overrides them key by key.
 */
export const BUILT_IN_PARAMETERS: CheckParameters = {
  openAfter: 2,
  openAfterFail: 1,
  closeAfter: 6,
  gap: { warnIntervals: 3, failIntervals: 10, defaultIntervalS: null },
  grossRange: { suspectMin: null, suspectMax: null },
  sigma: { window: 500, minSamples: 20 },
  spike: { suspectSigma: 4, failSigma: 8 },
  rateOfChange: { suspectSigma: 3 },
  flatLine: {
    enabled: true,
    tolerance: null,
    suspectSamples: 10,
    suspectAfterS: 3600,
    suspectChance: 1e-9,
    failSamples: 30,
    failAfterS: 14_400,
  },
  drift: {
    enabled: true,
    minPeers: 3,
    baselineHours: 14 * 24,
    baselineLagHours: 7 * 24,
    minBaselineHours: 72,
    cusumK: 0.5,
    cusumH: 8,
    ewmaLambda: 0.1,
    ewmaL: 2.7,
  },
  calibrationDue: { warnDaysBefore: 14 },
  calibrationStep: { windowHours: 24, warnSigma: 3, noChangeSigma: 0.5 },
};

/** How a YAML value becomes a parameter: as written, or a duration in seconds, hours or days. */
type Conversion = 'value' | 'seconds' | 'hours' | 'days';
/** YAML section → [parameter group (null: top level), { yaml key → [parameter key, conversion] }]. */
const FIELDS: Readonly<Record<string, [string | null, Record<string, [string, Conversion]>]>> = {
  hysteresis: [
    null,
    {
      open_after: ['openAfter', 'value'],
      open_after_fail: ['openAfterFail', 'value'],
      close_after: ['closeAfter', 'value'],
    },
  ],
  gap: [
    'gap',
    {
      warn_intervals: ['warnIntervals', 'value'],
      fail_intervals: ['failIntervals', 'value'],
      default_interval: ['defaultIntervalS', 'seconds'],
    },
  ],
  gross_range: ['grossRange', { suspect_min: ['suspectMin', 'value'], suspect_max: ['suspectMax', 'value'] }],
  sigma: ['sigma', { window: ['window', 'value'], min_samples: ['minSamples', 'value'] }],
  spike: ['spike', { suspect_sigma: ['suspectSigma', 'value'], fail_sigma: ['failSigma', 'value'] }],
  rate_of_change: ['rateOfChange', { suspect_sigma: ['suspectSigma', 'value'] }],
  flat_line: [
    'flatLine',
    {
      enabled: ['enabled', 'value'],
      tolerance: ['tolerance', 'value'],
      suspect_samples: ['suspectSamples', 'value'],
      suspect_after: ['suspectAfterS', 'seconds'],
      suspect_chance: ['suspectChance', 'value'],
      fail_samples: ['failSamples', 'value'],
      fail_after: ['failAfterS', 'seconds'],
    },
  ],
  drift: [
    'drift',
    {
      enabled: ['enabled', 'value'],
      min_peers: ['minPeers', 'value'],
      baseline_window: ['baselineHours', 'hours'],
      baseline_lag: ['baselineLagHours', 'hours'],
      min_baseline: ['minBaselineHours', 'hours'],
      cusum_k: ['cusumK', 'value'],
      cusum_h: ['cusumH', 'value'],
      ewma_lambda: ['ewmaLambda', 'value'],
      ewma_l: ['ewmaL', 'value'],
    },
  ],
  calibration_due: ['calibrationDue', { warn_before: ['warnDaysBefore', 'days'] }],
  calibration_step: [
    'calibrationStep',
    {
      window: ['windowHours', 'hours'],
      warn_sigma: ['warnSigma', 'value'],
      no_change_sigma: ['noChangeSigma', 'value'],
    },
  ],
};

/** One layer of overrides: `group.key` (or `key` at the top level) → value, and where it was written. */
interface Layer {
  values: Map<string, unknown>;
  at: Map<string, string>;
}

/** The parsed rules file: layers of overrides, resolved per series by `parametersFor`. */
export interface QualityRules {
  file: string;
  defaults: Layer;
  assetClasses: Map<string, Layer>;
  metrics: Map<string, { layer: Layer; assetClasses: Map<string, Layer> }>;
}

type ChecksYaml = Record<string, Record<string, unknown> | undefined>;
interface RulesYaml {
  defaults?: ChecksYaml;
  asset_classes?: Record<string, ChecksYaml>;
  metrics?: Record<string, ChecksYaml & { asset_classes?: Record<string, ChecksYaml> }>;
}

/** Reads and validates a rules file (default connectors/quality-rules.yaml). Throws ConfigError, one line a problem. */
export function loadQualityRules(path = DEFAULT_RULES_FILE): QualityRules {
  return buildRules(loadYamlFile<RulesYaml>(path, schema));
}

/** The same as loadQualityRules for YAML text; `file` only labels the messages. */
export function parseQualityRules(text: string, file = 'quality-rules.yaml'): QualityRules {
  return buildRules(validateYaml<RulesYaml>(text, file, schema));
}

function buildRules(doc: ValidatedYaml<RulesYaml>): QualityRules {
  const v = doc.value;
  const rules: QualityRules = {
    file: doc.file,
    defaults: layer(doc, v.defaults, ['defaults']),
    assetClasses: new Map(
      Object.entries(v.asset_classes ?? {}).map(([c, checks]) => [
        c,
        layer(doc, checks, ['asset_classes', c]),
      ]),
    ),
    metrics: new Map(
      Object.entries(v.metrics ?? {}).map(([m, checks]) => [
        m,
        {
          layer: layer(doc, checks, ['metrics', m]),
          assetClasses: new Map(
            Object.entries(checks.asset_classes ?? {}).map(([c, cc]) => [
              c,
              layer(doc, cc, ['metrics', m, 'asset_classes', c]),
            ]),
          ),
        },
      ]),
    ),
  };
  checkEveryCombination(rules);
  return rules;
}

function layer(doc: ValidatedYaml<RulesYaml>, checks: ChecksYaml | undefined, path: string[]): Layer {
  const out: Layer = { values: new Map(), at: new Map() };
  for (const [section, fields] of Object.entries(checks ?? {})) {
    const mapping = FIELDS[section];
    if (!mapping || !fields || section === 'asset_classes') continue;
    const [group, keys] = mapping;
    for (const [yamlKey, raw] of Object.entries(fields)) {
      const [param, conversion] = keys[yamlKey]!;
      const at = doc.at([...path, section, yamlKey]);
      const key = group ? `${group}.${param}` : param;
      out.values.set(key, convert(raw, conversion, at));
      out.at.set(key, at);
    }
  }
  return out;
}

function convert(raw: unknown, conversion: Conversion, at: string): unknown {
  if (conversion === 'value' || raw === null) return raw;
  const ms = parseDuration(raw, at);
  return ms / { seconds: 1000, hours: 3_600_000, days: 86_400_000 }[conversion];
}

/** The layers that apply to a series, least specific first. */
function layersFor(rules: QualityRules, metric: string, assetClass?: string | null): Layer[] {
  const m = rules.metrics.get(metric);
  const c = assetClass ? rules.assetClasses.get(assetClass) : undefined;
  const mc = assetClass ? m?.assetClasses.get(assetClass) : undefined;
  return [rules.defaults, c, m?.layer, mc].filter((l): l is Layer => l !== undefined);
}

/**
 * The parameters of one series: built-in defaults, then the file's `defaults`, its asset class, its metric,
 * and its metric's asset class. An unknown metric or asset class gets the defaults.
 */
export function parametersFor(
  rules: QualityRules,
  metric: string,
  assetClass?: string | null,
): CheckParameters {
  return resolve(layersFor(rules, metric, assetClass)).params;
}

function resolve(layers: Layer[]): { params: CheckParameters; at: Map<string, string> } {
  const params = structuredClone(BUILT_IN_PARAMETERS);
  const at = new Map<string, string>();
  for (const l of layers) {
    for (const [key, value] of l.values) {
      const [group, field] = key.includes('.') ? key.split('.') : [null, key];
      const target = (group ? params[group] : params) as Record<string, unknown>;
      target[field!] = value;
      at.set(key, l.at.get(key)!);
    }
  }
  return { params, at };
}

/** Pairs the schema cannot relate: the second must be at least (or above) the first. */
const ORDERED: readonly [
  low: string,
  high: string,
  'greater' | 'at least',
  yamlLow: string,
  yamlHigh: string,
][] = [
  ['gap.warnIntervals', 'gap.failIntervals', 'greater', 'gap.warn_intervals', 'gap.fail_intervals'],
  ['spike.suspectSigma', 'spike.failSigma', 'greater', 'spike.suspect_sigma', 'spike.fail_sigma'],
  [
    'flatLine.suspectSamples',
    'flatLine.failSamples',
    'at least',
    'flat_line.suspect_samples',
    'flat_line.fail_samples',
  ],
  [
    'flatLine.suspectAfterS',
    'flatLine.failAfterS',
    'at least',
    'flat_line.suspect_after',
    'flat_line.fail_after',
  ],
  [
    'grossRange.suspectMin',
    'grossRange.suspectMax',
    'greater',
    'gross_range.suspect_min',
    'gross_range.suspect_max',
  ],
  [
    'drift.minBaselineHours',
    'drift.baselineHours',
    'at least',
    'drift.min_baseline',
    'drift.baseline_window',
  ],
  ['sigma.minSamples', 'sigma.window', 'at least', 'sigma.min_samples', 'sigma.window'],
];

/**
 * Each combination a series can resolve to (defaults, per asset class, per metric, per metric and class)
 * must be consistent; a problem is reported where the more specific of the two values was written.
 */
function checkEveryCombination(rules: QualityRules): void {
  const classes = [null, ...rules.assetClasses.keys()];
  const combos: { label: string; layers: Layer[] }[] = [];
  for (const c of classes)
    combos.push({ label: c ? `asset class ${c}` : 'defaults', layers: layersFor(rules, '', c) });
  for (const [m, entry] of rules.metrics) {
    for (const c of new Set([...classes, ...entry.assetClasses.keys()]))
      combos.push({
        label: c ? `metric ${m}, asset class ${c}` : `metric ${m}`,
        layers: layersFor(rules, m, c),
      });
  }
  const problems = new Set<string>();
  for (const { label, layers } of combos) {
    const { params, at } = resolve(layers);
    for (const [low, high, relation, yamlLow, yamlHigh] of ORDERED) {
      const a = get(params, low);
      const b = get(params, high);
      if (typeof a !== 'number' || typeof b !== 'number') continue;
      if (relation === 'greater' ? b > a : b >= a) continue;
      // Point at whichever of the two was written in the more specific place (the later layer).
      const where = pickLater(at.get(high), at.get(low), layers) ?? rules.file;
      const must = relation === 'greater' ? 'greater than' : 'at least';
      problems.add(
        `${where}: for ${label}, ${yamlHigh} (${b}) must be ${must} ${yamlLow} (${a}); raise ${yamlHigh} or lower ${yamlLow}`,
      );
    }
  }
  if (problems.size > 0) throw new ConfigError([...problems].join('\n'));
}

function pickLater(a: string | undefined, b: string | undefined, layers: Layer[]): string | undefined {
  const rank = (where: string | undefined) =>
    where === undefined ? -1 : layers.findIndex((l) => [...l.at.values()].includes(where));
  return rank(a) >= rank(b) ? a : b;
}

function get(params: CheckParameters, key: string): unknown {
  const [group, field] = key.split('.');
  return (params[group!] as Record<string, unknown>)[field!];
}

/**
 * Checks that every metric the rules file names is a metric code dw.dim_metric has (`codes`): overrides for
 * a code no reading carries would never apply. Throws one line per unknown code.
 */
export function checkQualityRuleMetrics(rules: QualityRules, codes: ReadonlySet<string>): void {
  const known = [...codes].sort().join(', ');
  const unknown = [...rules.metrics.keys()].filter((m) => !codes.has(m));
  if (unknown.length > 0)
    throw new ConfigError(
      unknown
        .map(
          (m) => `${rules.file}: metrics.${m}: '${m}' is not a metric code in dw.dim_metric; known: ${known}`,
        )
        .join('\n'),
    );
}
