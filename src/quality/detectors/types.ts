// The detector API shared by the detectors (this folder) and the streaming data-quality stage that persists
// their state and turns their results into events (docs/data-quality.md, "Checks and QARTOD flags").

export type CheckName =
  | 'gap'
  | 'gross_range'
  | 'spike'
  | 'rate_of_change'
  | 'flat_line'
  | 'drift_cusum'
  | 'drift_ewma'
  | 'calibration_due'
  | 'calibration_step';

/** QARTOD: 1 pass, 2 not evaluated, 3 suspect, 4 fail, 9 missing. */
export type QartodFlag = 1 | 2 | 3 | 4 | 9;

export interface SeriesReading {
  /** Epoch milliseconds. */
  ts: number;
  value: number;
}

/** What a check says about one reading (or one hour, or one device for calibration). */
export interface CheckResult {
  check: CheckName;
  /** 1 when the check passes. */
  flag: QartodFlag;
  severity: 'info' | 'warn' | 'fail';
  observed: number | null;
  threshold: number | null;
  /** Parameters and evidence, JSON-serialisable. */
  details: Record<string, unknown>;
}

/** The series' spec: from dw.dim_device / dw.dim_metric (device spec range wins over the metric's valid range). */
export interface SeriesSpec {
  metric: string;
  unit?: string | null;
  /** Gross range: a reading outside fails. */
  rangeMin?: number | null;
  rangeMax?: number | null;
  /** Flat-line tolerance when the rules file gives none. */
  resolution?: number | null;
  /** Cadence; when missing, the rules file's default interval, else the median of the observed intervals. */
  expectedIntervalS?: number | null;
}

/** Gap / heartbeat: a silence longer than `warnIntervals` (fail: `failIntervals`) expected intervals. */
export interface GapParameters {
  warnIntervals: number;
  failIntervals: number;
  /** Used when the device has no expected interval; null: learn it from the readings. */
  defaultIntervalS: number | null;
}

/** Gross range: the suspect span from the rules file (the fail span is the device spec). */
export interface GrossRangeParameters {
  suspectMin: number | null;
  suspectMax: number | null;
}

/** Spike and rate of change, in robust sigmas (1.4826 × MAD of the recent first differences). */
export interface SpikeParameters {
  suspectSigma: number;
  failSigma: number;
}
export interface RateOfChangeParameters {
  suspectSigma: number;
}

/** Robust scale estimate shared by spike and rate of change. */
export interface SigmaParameters {
  /** Number of recent first differences kept (ring buffer) for the MAD. */
  window: number;
  /** Fewer differences than this: spike and rate of change are not evaluated (flag 2). */
  minSamples: number;
}

/** Flat line: values within `tolerance` for at least both the samples and the duration. */
export interface FlatLineParameters {
  /** false: the check is not evaluated (flag 2), e.g. a slow, coarsely quantised series such as battery. */
  enabled: boolean;
  /** null: the device's resolution, else 0 (identical values). */
  tolerance: number | null;
  suspectSamples: number;
  suspectAfterS: number;
  /**
   * A run of at least `suspectSamples` is suspect before `suspectAfterS` once a healthy series with the noise
   * measured before the run would stay within the tolerance that long with at most this chance; 0: only the
   * duration counts.
   */
  suspectChance: number;
  failSamples: number;
  failAfterS: number;
}

/** Drift on hourly means: CUSUM and EWMA of the robustly standardised residual against the peers' median. */
export interface DriftParameters {
  /** false: drift is not evaluated (flag 2), e.g. a battery, whose residual against peers trends by design. */
  enabled: boolean;
  minPeers: number;
  /** Baseline window of residuals (hours), ending `baselineLagHours` before the hour being evaluated. */
  baselineHours: number;
  baselineLagHours: number;
  /** Fewer baseline hours than this: drift is not evaluated (flag 2). */
  minBaselineHours: number;
  cusumK: number;
  cusumH: number;
  ewmaLambda: number;
  ewmaL: number;
}

export interface CalibrationDueParameters {
  warnDaysBefore: number;
}

/** The level step across a calibration: the residual's mean after vs before. */
export interface CalibrationStepParameters {
  windowHours: number;
  /** Warn when |offset| > warnSigma × the robust sigma of the residual before. */
  warnSigma: number;
  /** |offset| at or below this many sigmas counts as "no change" (ineffective while drift was open). */
  noChangeSigma: number;
}

/** Parameters of every check for one series, resolved from the rules file for its metric and asset class. */
export interface CheckParameters {
  /** Consecutive failing evaluations before an event opens. */
  openAfter: number;
  /** Consecutive passing evaluations before it closes. */
  closeAfter: number;
  /** Consecutive evaluations with flag 4 before an event opens (a fail opens sooner than a suspect). */
  openAfterFail: number;
  gap: GapParameters;
  grossRange: GrossRangeParameters;
  sigma: SigmaParameters;
  spike: SpikeParameters;
  rateOfChange: RateOfChangeParameters;
  flatLine: FlatLineParameters;
  drift: DriftParameters;
  calibrationDue: CalibrationDueParameters;
  calibrationStep: CalibrationStepParameters;
  [k: string]: unknown;
}

/** JSON-serialisable, persisted per device+metric. */
export type SeriesState = Record<string, unknown>;
