export { recordFirmwareChanges } from './firmware.ts';
export {
  type OfflineRule,
  type OfflineSweeper,
  type OfflineSweeperOptions,
  startOfflineSweeper,
  sweepOfflineDevices,
} from './offline-sweeper.ts';
export { clearOutbox, type DeviceEvent, type DeviceEventType } from './outbox.ts';
export {
  type BatteryHealth,
  type DeviceStateOptions,
  type DeviceStateOutcome,
  defaultBatteryHealth,
  type ReadingSummary,
  recordDeviceState,
  summarizeReadings,
} from './record-readings.ts';
