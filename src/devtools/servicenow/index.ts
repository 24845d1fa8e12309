// The ServiceNow emulator's public face (docs/servicenow-emulator.md): start it, steer its faults and limits,
// read what it saw.

export { type EmulatorRecord, type ServiceNowEmulator, startServiceNowEmulator } from './emulator.ts';
export type { ServiceNowEmulatorOptions } from './emulator-options.ts';
export { faultSpecHelp, parseFaultSpec } from './fault-spec.ts';
export type { FaultRule, ServiceNowFaults } from './faults.ts';
export { priorityFor } from './incident-rules.ts';
export { parseRateLimitSpec, type RateLimitRule } from './rate-limiter.ts';
export type { GlideRecord } from './record-store.ts';
export type { RequestRecord, RequestStats } from './request-log.ts';
export type { FieldDef, FieldType, TableDef } from './table-schema.ts';
