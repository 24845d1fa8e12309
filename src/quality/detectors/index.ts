// The data-quality detectors' public face (docs/data-quality.md): pure, streaming checks with QARTOD flags and
// JSON state, and the rules file that parameterises them. The quality stage imports only from here.

export { calibrationDue, calibrationStep } from './calibration.ts';
export { DriftMonitor } from './drift-monitor.ts';
export { severityOf, worstFlag } from './flags.ts';
export { expectedIntervalS, gapCheck } from './gap.ts';
export { median, robustScale } from './robust.ts';
export {
  BUILT_IN_PARAMETERS,
  checkQualityRuleMetrics,
  DEFAULT_RULES_FILE,
  loadQualityRules,
  parametersFor,
  parseQualityRules,
  type QualityRules,
} from './rules.ts';
export { type Observation, type ObserveContext, SeriesMonitor } from './series-monitor.ts';
export type {
  CalibrationDueParameters,
  CalibrationStepParameters,
  CheckName,
  CheckParameters,
  CheckResult,
  DriftParameters,
  FlatLineParameters,
  GapParameters,
  GrossRangeParameters,
  QartodFlag,
  RateOfChangeParameters,
  SeriesReading,
  SeriesSpec,
  SeriesState,
  SigmaParameters,
  SpikeParameters,
} from './types.ts';
