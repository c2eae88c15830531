/** The command line's options: the commands' own switches plus one flag per config field (from the schema). */
import { parseArgs } from 'node:util';
import { configFlagOptions, type FlagValues } from '../config/index.ts';

const COMMAND_OPTIONS = {
  config: { type: 'string', short: 'c' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type Flags = FlagValues;

export function parseFlags(argv: string[]): { flags: Flags; positionals: string[] } {
  const { values, positionals } = parseArgs({ args: argv, options: { ...configFlagOptions(), ...COMMAND_OPTIONS }, allowPositionals: true, strict: true });
  return { flags: values, positionals };
}

/** A string-valued flag (the last one when repeated). */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === 'string' ? v : undefined;
}
