export {
  type DeviceLookup,
  type MissingDevicePolicy,
  ReferenceCache,
  type ReferenceCacheOptions,
} from './reference-cache.ts';
export {
  type AssetVersion,
  type DeviceVersion,
  type MaintenanceContext,
  type MetricInfo,
  ReferenceSnapshot,
  UNKNOWN_SK,
} from './reference-snapshot.ts';
