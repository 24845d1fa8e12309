// Public face of the warehouse stage: other stages import from here only.
export { type MigrateAction, type MigrateResult, migrateActions, migrateDatabase } from './migrate.ts';
