export { StackError } from './errors.ts';
export { type StackPaths, stackPaths } from './paths.ts';
export { cdcRole, sourceDatabases } from './postgres.ts';
export { type ManagedProcess, runningProcess } from './processes.ts';
export {
  type ComponentStatus,
  type StackStatus,
  type StackUpResult,
  stackDown,
  stackStatus,
  stackUp,
} from './stack.ts';
export { stackPorts, stackVersions } from './versions.ts';
