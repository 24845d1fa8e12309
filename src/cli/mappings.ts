import type { Command } from 'commander';

// Placeholder until the mapping commands land (issue 3); registers nothing.
export function registerMappingsCommand(_program: Command): void {}
