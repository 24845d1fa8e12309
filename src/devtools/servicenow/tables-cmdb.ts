import { bool, choice, dateTime, integer, reference, type TableDef, text } from './table-schema.ts';

/** `discovery_source` choices seen in the docs, plus the hub's own source. */
export const defaultDataSources = [
  'ServiceNow',
  'Manual Entry',
  'Other Automated',
  'Manual via IRE',
  'IoTHub',
];

/** Relationship types seeded in `cmdb_rel_type`; IRE relations name them. */
export const defaultRelationTypes = [
  'Connects to::Connected by',
  'Contains::Contained by',
  'Depends on::Used by',
  'IP Connection::IP Connection',
  'Runs on::Runs',
];

/**
 * The CMDB tables the hub uses. IoT devices are `cmdb_ci_iot`, gateways `cmdb_ci_iot_gateway` (lower case
 * assumed, there is no `cmdb_ci_iot_device`), industrial assets `cmdb_ci_ot`, sites `cmn_location` (a
 * location, not a CI). Column lists are the subset the hub reads and writes.
 */
export function cmdbTables(dataSources: readonly string[]): TableDef[] {
  return [
    {
      name: 'cmdb_ci',
      label: 'Configuration Item',
      displayField: 'name',
      fields: {
        name: text('Name'),
        serial_number: text('Serial number'),
        asset_tag: text('Asset tag'),
        short_description: text('Description'),
        manufacturer: reference('Manufacturer', 'core_company'),
        model_number: text('Model number'),
        ip_address: text('IP Address'),
        mac_address: text('MAC Address'),
        fqdn: text('Fully qualified domain name'),
        operational_status: choice(
          'Operational status',
          {
            '1': 'Operational',
            '2': 'Non-Operational',
            '3': 'Repair in Progress',
            '5': 'Ready',
            '6': 'Retired',
          },
          '1',
        ),
        install_status: choice(
          'Status',
          { '1': 'Installed', '3': 'In Maintenance', '6': 'In Stock', '7': 'Retired', '100': 'Absent' },
          '1',
        ),
        location: reference('Location', 'cmn_location'),
        company: reference('Company', 'core_company'),
        support_group: reference('Support group', 'sys_user_group'),
        discovery_source: choice('Discovery source', Object.fromEntries(dataSources.map((s) => [s, s]))),
        first_discovered: dateTime('Most recent discovery'),
        last_discovered: dateTime('Most recent discovery'),
        category: text('Category'),
        subcategory: text('Subcategory'),
        comments: text('Comments'),
        sys_class_name: text('Class'),
        sys_domain: reference('Domain', 'sys_user_group', 'global'),
        // Set on a duplicate CI to its main CI; IRE refuses references to such a duplicate.
        duplicate_of: reference('Duplicate of', 'cmdb_ci'),
      },
    },
    {
      name: 'cmdb_ci_hardware',
      label: 'Hardware',
      extends: 'cmdb_ci',
      displayField: 'name',
      fields: {
        hardware_status: choice(
          'Hardware Status',
          {
            installed: 'Installed',
            in_stock: 'In Stock',
            retired: 'Retired',
            pending_repair: 'Pending Repair',
          },
          'installed',
        ),
        firmware_version: text('Firmware version'),
      },
    },
    {
      name: 'cmdb_ci_iot',
      label: 'IoT Device',
      extends: 'cmdb_ci_hardware',
      displayField: 'name',
      // Custom columns the hub's CMDB sink writes (docs/servicenow-cmdb.md); an instance admin adds them.
      fields: {
        u_last_seen: dateTime('Last seen'),
        u_battery_pct: integer('Battery (%)'),
        u_health: choice('Health', { ok: 'OK', degraded: 'Degraded', failed: 'Failed' }),
      },
    },
    {
      name: 'cmdb_ci_converged_infra',
      label: 'Converged Infrastructure',
      extends: 'cmdb_ci_hardware',
      displayField: 'name',
      fields: {},
    },
    {
      name: 'cmdb_ci_iot_gateway',
      label: 'IoT Gateway',
      extends: 'cmdb_ci_converged_infra',
      displayField: 'name',
      fields: {},
    },
    { name: 'cmdb_ci_ot', label: 'OT Entity', extends: 'cmdb_ci_hardware', displayField: 'name', fields: {} },
    {
      name: 'cmn_location',
      label: 'Location',
      displayField: 'name',
      fields: {
        name: text('Name'),
        full_name: text('Full name'),
        parent: reference('Parent', 'cmn_location'),
        street: text('Street'),
        city: text('City'),
        country: text('Country'),
        latitude: text('Latitude'),
        longitude: text('Longitude'),
      },
    },
    {
      name: 'cmdb_rel_type',
      label: 'CI Relationship Type',
      displayField: 'name',
      fields: {
        name: text('Name'),
        parent_descriptor: text('Parent descriptor'),
        child_descriptor: text('Child descriptor'),
      },
    },
    {
      name: 'cmdb_rel_ci',
      label: 'CI Relationship',
      displayField: 'type',
      fields: {
        parent: reference('Parent', 'cmdb_ci'),
        child: reference('Child', 'cmdb_ci'),
        type: reference('Type', 'cmdb_rel_type'),
      },
    },
    {
      name: 'cmdb_serial_number',
      label: 'Serial Number',
      displayField: 'serial_number',
      fields: {
        cmdb_ci: reference('Configuration item', 'cmdb_ci'),
        serial_number: text('Serial number'),
        serial_number_type: text('Serial number type'),
        valid: bool('Valid', 'true'),
      },
    },
  ];
}
