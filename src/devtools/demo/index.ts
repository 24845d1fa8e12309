// What `iot-hub demo` runs on top of the stack and the simulator: its ServiceNow peer, its consumer group's
// start, and the questions it asks the warehouse at the end.
export {
  type DeadLetterCause,
  deadLettersByCause,
  hourlyAverageBySite,
  misplacedReadings,
  type SiteAverage,
  ticketStates,
} from './demo-report.ts';
export { forgetGroup, startGroupAtEnd } from './ingest-window.ts';
export { type DemoIncident, listIncidents, startDemoServiceNow } from './servicenow-peer.ts';
