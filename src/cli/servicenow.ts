import type { Command } from 'commander';

// Placeholder until the ServiceNow emulator command lands (issue 5); registers nothing.
export function registerServicenowCommand(_program: Command): void {}
