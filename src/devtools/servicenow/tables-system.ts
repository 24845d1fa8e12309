import { bool, integer, reference, type TableDef, text } from './table-schema.ts';

/** Users, groups, choices and journal entries: the platform tables the incident flow touches. */
export const systemTables: TableDef[] = [
  {
    name: 'sys_user',
    label: 'User',
    displayField: 'name',
    fields: {
      user_name: text('User ID'),
      name: text('Name'),
      first_name: text('First name'),
      last_name: text('Last name'),
      email: text('Email'),
      active: bool('Active', 'true'),
    },
  },
  {
    name: 'sys_user_group',
    label: 'Group',
    displayField: 'name',
    fields: {
      name: text('Name'),
      description: text('Description'),
      email: text('Group email'),
      manager: reference('Manager', 'sys_user'),
      type: text('Type'),
      active: bool('Active', 'true'),
    },
  },
  {
    name: 'sys_choice',
    label: 'Choice',
    displayField: 'label',
    fields: {
      name: text('Table'),
      element: text('Element'),
      value: text('Value'),
      label: text('Label'),
      sequence: integer('Sequence', '0'),
      language: text('Language', 'en'),
      inactive: bool('Inactive', 'false'),
    },
  },
  {
    // Journal Entry table: one row per work note or comment.
    name: 'sys_journal_field',
    label: 'Journal Entry',
    displayField: 'value',
    fields: {
      element: text('Element'),
      element_id: text('Element ID'),
      name: text('Table name'),
      value: text('Value'),
    },
  },
  { name: 'core_company', label: 'Company', displayField: 'name', fields: { name: text('Name') } },
];
