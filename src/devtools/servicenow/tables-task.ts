import { bool, choice, dateTime, integer, journal, reference, type TableDef, text } from './table-schema.ts';

const impactUrgency = { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' };

/** The close codes of a current release; replaceable because instances differ. */
export const defaultCloseCodes = [
  'Duplicate',
  'Known error',
  'No resolution provided',
  'Resolved by caller',
  'Resolved by change',
  'Resolved by problem',
  'Resolved by request',
  'Solution provided',
  'Workaround provided',
  'User error',
];

/** `task` and its child `incident`, with the documented columns (a subset of a real instance's ~90). */
export function taskTables(closeCodes: readonly string[]): TableDef[] {
  const task: TableDef = {
    name: 'task',
    label: 'Task',
    displayField: 'number',
    fields: {
      number: text('Number'),
      task_effective_number: text('Effective number'),
      short_description: text('Short description'),
      description: text('Description'),
      state: choice(
        'State',
        {
          '-5': 'Pending',
          '1': 'Open',
          '2': 'Work in Progress',
          '3': 'Closed Complete',
          '4': 'Closed Incomplete',
        },
        '1',
      ),
      active: bool('Active', 'true'),
      impact: choice('Impact', impactUrgency, '3'),
      urgency: choice('Urgency', impactUrgency, '3'),
      priority: choice(
        'Priority',
        { '1': '1 - Critical', '2': '2 - High', '3': '3 - Moderate', '4': '4 - Low', '5': '5 - Planning' },
        '4',
      ),
      assignment_group: reference('Assignment group', 'sys_user_group'),
      assigned_to: reference('Assigned to', 'sys_user'),
      cmdb_ci: reference('Configuration item', 'cmdb_ci'),
      company: reference('Company', 'core_company'),
      location: reference('Location', 'cmn_location'),
      contact_type: choice('Channel', {
        email: 'Email',
        phone: 'Phone',
        'self-service': 'Self-service',
        virtual_agent: 'Virtual Agent',
        'walk-in': 'Walk-in',
      }),
      correlation_id: text('Correlation ID'),
      correlation_display: text('Correlation display'),
      work_notes: journal('Work notes'),
      comments: journal('Additional comments'),
      opened_at: dateTime('Opened'),
      opened_by: reference('Opened by', 'sys_user'),
      closed_at: dateTime('Closed'),
      closed_by: reference('Closed by', 'sys_user'),
      close_notes: text('Close notes'),
      escalation: integer('Escalation', '0'),
      reassignment_count: integer('Reassignment count', '0'),
      made_sla: bool('Made SLA', 'true'),
      knowledge: bool('Knowledge', 'false'),
      approval: text('Approval', 'not requested'),
      sys_class_name: text('Task type'),
      sys_domain: reference('Domain', 'sys_user_group', 'global'),
      sys_domain_path: text('Domain path', '/'),
    },
  };
  const incident: TableDef = {
    name: 'incident',
    label: 'Incident',
    extends: 'task',
    displayField: 'number',
    fields: {
      state: choice(
        'State',
        { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' },
        '1',
      ),
      incident_state: choice(
        'Incident state',
        { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' },
        '1',
      ),
      priority: choice(
        'Priority',
        { '1': '1 - Critical', '2': '2 - High', '3': '3 - Moderate', '4': '4 - Low', '5': '5 - Planning' },
        '5',
      ),
      severity: choice('Severity', impactUrgency, '3'),
      caller_id: reference('Caller', 'sys_user'),
      category: choice(
        'Category',
        {
          inquiry: 'Inquiry / Help',
          software: 'Software',
          hardware: 'Hardware',
          network: 'Network',
          database: 'Database',
        },
        'inquiry',
      ),
      subcategory: text('Subcategory'),
      hold_reason: choice('On hold reason', {
        '1': 'Awaiting Caller',
        '3': 'Awaiting Problem',
        '4': 'Awaiting Vendor',
        '5': 'Awaiting Change',
      }),
      close_code: choice('Resolution code', Object.fromEntries(closeCodes.map((c) => [c, c]))),
      close_notes: text('Resolution notes'),
      resolved_at: dateTime('Resolved'),
      resolved_by: reference('Resolved by', 'sys_user'),
      reopen_count: integer('Reopen count', '0'),
      reopened_time: dateTime('Last reopened at'),
      reopened_by: reference('Last reopened by', 'sys_user'),
    },
  };
  return [task, incident];
}
