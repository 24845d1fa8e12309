// The quality stage's public face (docs/servicenow-tickets.md): durable alerts in hub.alert from threshold
// rules, heartbeat loss and (later) the data-quality detectors. Other stages import only from here.

export {
  type AlertEngine,
  type AlertEngineOptions,
  type AlertReading,
  createAlertEngine,
} from './alert-engine.ts';
export {
  type AlertClear,
  type AlertEvent,
  type AlertRaise,
  type AlertSeverity,
  alertKey,
  type RaiseOutcome,
} from './alert-events.ts';
export {
  type AlertRule,
  checkRuleMetrics,
  type HeartbeatRule,
  loadAlertRules,
  parseAlertRules,
  type RuleLimit,
  type ThresholdRule,
} from './alert-rules.ts';
export {
  drainAlertOutbox,
  type QualityJobs,
  type QualityReport,
  qualityReport,
  runCalibrationDue,
  runCalibrationStep,
  runDrift,
  runGapSweep,
  StreamQualityStage,
  startQualityJobs,
} from './monitor/index.ts';
export {
  type AlertTraceContext,
  activeTraceContext,
  type RaiseAlertsOptions,
  raiseAlerts,
  retryFailedTickets,
  TICKET_NOTIFY_CHANNEL,
} from './raise-alerts.ts';
