import type { Knex } from 'knex';

// What the governed GraphQL API records per operation beyond the columns hub.audit_log started with
// (docs/graphql.md, "Audit"): the kind of principal, the operation type, the classifications touched and
// the error codes, so an auditor can ask "who read PII last week" or "which operations were refused".

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE hub.audit_log
      ADD COLUMN principal_kind text,                          -- user | service | anonymous
      ADD COLUMN operation_type text,                          -- query | mutation | subscription
      ADD COLUMN classifications text[] NOT NULL DEFAULT '{}', -- PUBLIC | OPERATIONAL | CONFIDENTIAL | PII
      ADD COLUMN error_codes text[] NOT NULL DEFAULT '{}',
      ADD COLUMN error_message text;                           -- the first error, unmasked (internal log)
    COMMENT ON COLUMN hub.audit_log.outcome IS 'ok | partial (data with errors) | denied | rejected (limits, invalid) | error';
    CREATE INDEX audit_log_classifications ON hub.audit_log USING gin (classifications);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX hub.audit_log_classifications;
    COMMENT ON COLUMN hub.audit_log.outcome IS NULL;
    ALTER TABLE hub.audit_log
      DROP COLUMN principal_kind,
      DROP COLUMN operation_type,
      DROP COLUMN classifications,
      DROP COLUMN error_codes,
      DROP COLUMN error_message;
  `);
}
