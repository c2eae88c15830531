/**
 * The three sources of configuration, each read by walking the schema: the YAML file, the
 * `KOI_NET_*` environment variables and the command-line flags (plus their --help lines).
 */
import type { ParseArgsConfig } from 'node:util';
import { parseDocument } from 'yaml';
import { KoiNetError } from '../errors.ts';
import { FieldReader, UsageError } from './codecs.ts';
import { FIELD_LIST, GROUPS, setField, yamlPath, type ConfigGroup, type ConfigOverrides, type Field } from './schema.ts';

/** Parses a config file's text; every field is checked, unknown fields are refused (typos). */
export function parseConfigText(text: string, filePath = '<config>'): ConfigOverrides {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new KoiNetError('invalid_config', `config file ${filePath} is not valid YAML: ${doc.errors[0]!.message}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return {};
  const r = new FieldReader(filePath);
  const top = r.object(raw, '(root)');
  const topKeys = [...new Set(FIELD_LIST.map((f) => f.group ?? f.spec.yaml))];
  r.only(top, '', topKeys);
  const out: ConfigOverrides = {};
  const groups = new Map<ConfigGroup, Record<string, unknown> | null>();
  for (const f of FIELD_LIST) {
    if (!f.group) {
      if (top[f.spec.yaml] !== undefined) setField(out, f, f.spec.codec.file(top[f.spec.yaml], f.spec.yaml, r));
      continue;
    }
    if (!groups.has(f.group)) groups.set(f.group, readGroup(top, f.group, r, out));
    const g = groups.get(f.group);
    if (g && g[f.spec.yaml] !== undefined) setField(out, f, f.spec.codec.file(g[f.spec.yaml], yamlPath(f), r));
  }
  return out;
}

/** A group's mapping (null when absent or null); the short form `contact: false` is set here. */
function readGroup(top: Record<string, unknown>, group: ConfigGroup, r: FieldReader, out: ConfigOverrides): Record<string, unknown> | null {
  const v = top[group];
  if (v === undefined || v === null) return null;
  const shorthand = GROUPS[group].shorthand;
  if (shorthand && typeof v === 'boolean') {
    out[group] = { [shorthand]: v };
    return null;
  }
  const g = r.object(v, group);
  r.only(g, `${group}.`, FIELD_LIST.filter((f) => f.group === group).map((f) => f.spec.yaml));
  out[group] = {};
  return g;
}

/** `KOI_NET_<FIELD>` variables; lists are comma-separated, booleans `true/false/1/0`. An empty value is unset. */
export function envOverrides(env: Record<string, string | undefined>): ConfigOverrides {
  const r = new FieldReader('environment');
  const out: ConfigOverrides = {};
  for (const f of FIELD_LIST) {
    const name = f.spec.env;
    const v = name ? env[name] : undefined;
    if (name && v) setField(out, f, f.spec.codec.env(v, name, r));
  }
  return out;
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;
/** Flag values as node:util parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The parseArgs options of every config field's flag. */
export function configFlagOptions(): FlagOptions {
  const options: FlagOptions = {};
  for (const { spec } of FIELD_LIST) {
    if (!spec.flag) continue;
    options[spec.flag.name] = { type: spec.codec.flagType, ...(spec.codec.multiple ? { multiple: true } : {}) };
    if (spec.flag.negation) options[spec.flag.negation] = { type: 'boolean' };
  }
  return options;
}

/** Flags as config overrides. Values are checked by the config validator, which names the field. */
export function flagsToOverrides(flags: FlagValues): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const f of FIELD_LIST) {
    const flag = f.spec.flag;
    if (!flag) continue;
    const v = flags[flag.name];
    if (flag.negation && flags[flag.negation]) {
      if (v) throw new UsageError(`--${flag.name} and --${flag.negation} contradict each other`);
      setField(out, f, false);
      continue;
    }
    if (v === undefined) continue;
    const value = f.spec.codec.flag(v, flag.name);
    if (value !== undefined) setField(out, f, value);
  }
  return out;
}

/** The --help lines of the config flags, in table order. */
export function flagHelp(): string {
  const lines: string[] = [];
  // The help column moves right once, where the long flags (the tuning knobs at the end) start.
  let width = 26;
  for (const f of FIELD_LIST) {
    const flag = f.spec.flag;
    if (!flag?.help) continue;
    const usage = flag.usage ?? `--${flag.name}${flag.arg ? ` ${flag.arg}` : ''}`;
    const help = [...flag.help];
    if (flag.showDefault) help[help.length - 1] += ` (default ${String(f.spec.default)})`;
    if (usage.length > width) width = 28;
    help.forEach((h, i) => lines.push(`  ${(i === 0 ? usage : '').padEnd(width)}  ${h}`));
  }
  return lines.join('\n') + '\n';
}

export type { Field };
