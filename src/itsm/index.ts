// The ITSM stage's public face (docs/servicenow-tickets.md): ServiceNow ticket delivery for hub.alert, and
// the ServiceNow client it uses. Other stages import only from here.

export type { AuthSource } from './auth-source.ts';
export { BasicAuth } from './basic-auth.ts';
export { type OAuthSettings, OAuthTokenSource } from './oauth-token-source.ts';
export { RatePacer, type RatePacerOptions } from './rate-pacer.ts';
export { RecoveringCondition } from './recovering-condition.ts';
export { type IncidentRef, ServiceNowClient, type ServiceNowClientOptions } from './servicenow-client.ts';
export { ServiceNowError, type ServiceNowErrorKind } from './servicenow-error.ts';
export { ServiceNowHealth, type ServiceNowHealthStatus } from './servicenow-health.ts';
export { type ServiceNowConnection, serviceNowConnection } from './servicenow-http.ts';
export { type AlertTicketSummary, listAlerts, listTickets } from './ticket-admin.ts';
export { startTicketDelivery, type TicketDelivery, type TicketDeliveryOptions } from './ticket-delivery.ts';
export { ticketJobId } from './ticket-queue.ts';
export {
  defaultTicketSettings,
  defaultTicketSettingsFile,
  loadTicketSettings,
  type TicketSettings,
  ticketQueueName,
} from './ticket-settings.ts';
