/**
 * The metrics the simulator produces, with the sensor spec (range, resolution) and the shape of a healthy
 * signal, all in the canonical UCUM unit of dw.dim_metric (migrations/20261126000001_dw_dimensions.ts).
 */
export type SimulatedMetric = 'temperature' | 'vibration' | 'pressure' | 'humidity' | 'power' | 'battery';

export const simulatedMetrics: readonly SimulatedMetric[] = [
  'temperature',
  'vibration',
  'pressure',
  'humidity',
  'power',
  'battery',
];

/** How a healthy signal of one metric looks; a device draws its own parameters from these spans. */
export interface MetricProfile {
  /** Canonical UCUM unit (dw.dim_metric.canonical_unit). */
  unit: string;
  /** Sensor spec range: a reading outside it is a gross-range failure. */
  rangeMin: number;
  rangeMax: number;
  /** Smallest step the sensor reports; values are rounded to it. */
  resolution: number;
  /** Mean level of a device, drawn uniformly from this span. */
  base: readonly [number, number];
  /** Amplitude of the daily cycle (peak in the afternoon), drawn from this span. */
  dailyAmplitude: readonly [number, number];
  /** Standard deviation of the measurement noise. */
  noise: number;
  /** Change per day (battery discharge), drawn from this span. */
  trendPerDay: readonly [number, number];
  /** Power follows the plant shifts: the level at night, as a fraction of the day level. */
  nightFactor?: number;
  /** Physical bounds the healthy signal is clamped to (a battery cannot exceed 100 %). */
  clamp: readonly [number, number];
}

export const metricProfiles: Readonly<Record<SimulatedMetric, MetricProfile>> = {
  temperature: {
    unit: 'Cel',
    rangeMin: -40,
    rangeMax: 150,
    resolution: 0.01,
    base: [18, 75],
    dailyAmplitude: [1.5, 5],
    noise: 0.25,
    trendPerDay: [0, 0],
    clamp: [-40, 150],
  },
  vibration: {
    unit: 'mm/s',
    rangeMin: 0,
    rangeMax: 50,
    resolution: 0.01,
    base: [1.2, 6],
    dailyAmplitude: [0.2, 0.8],
    noise: 0.15,
    trendPerDay: [0, 0],
    clamp: [0, 50],
  },
  pressure: {
    unit: 'kPa',
    rangeMin: 0,
    rangeMax: 1600,
    resolution: 0.1,
    base: [250, 700],
    dailyAmplitude: [5, 25],
    noise: 1.5,
    trendPerDay: [0, 0],
    clamp: [0, 1600],
  },
  humidity: {
    unit: '%',
    rangeMin: 0,
    rangeMax: 100,
    resolution: 0.1,
    base: [35, 60],
    // Negative: relative humidity falls as the afternoon temperature rises.
    dailyAmplitude: [-9, -3],
    noise: 0.8,
    trendPerDay: [0, 0],
    clamp: [0, 100],
  },
  power: {
    unit: 'kW',
    rangeMin: 0,
    rangeMax: 400,
    resolution: 0.01,
    base: [15, 180],
    dailyAmplitude: [0, 0],
    noise: 1.2,
    trendPerDay: [0, 0],
    nightFactor: 0.2,
    clamp: [0, 400],
  },
  battery: {
    unit: '%',
    rangeMin: 0,
    rangeMax: 100,
    resolution: 1,
    base: [70, 100],
    dailyAmplitude: [0, 0],
    noise: 0.2,
    trendPerDay: [-1.2, -0.2],
    clamp: [0, 100],
  },
};
