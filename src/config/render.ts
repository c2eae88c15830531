/** The commented config file, written by `koi-net init` and by a first `start` without one. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { KoiNetError } from '../errors.ts';
import { FIELD_LIST, GROUPS, getField, type ConfigGroup, type KoiNetConfig } from './schema.ts';

/** The YAML text of a config, with a comment on every field. */
export function renderConfig(c: KoiNetConfig, relativeTo?: string): string {
  let dataDir = c.dataDir;
  if (relativeTo && isAbsolute(dataDir)) dataDir = relative(relativeTo, dataDir) || '.';
  const shown: KoiNetConfig = { ...c, dataDir };
  const lines = ['# koi-net node configuration.', '# Precedence: command-line flags > KOI_NET_* environment variables > this file > defaults.'];
  const comment = (doc: string[], indent: string): void => {
    for (const d of doc) lines.push(`${indent}# ${d}`);
  };
  let open: ConfigGroup | undefined;
  for (const f of FIELD_LIST) {
    const indent = f.group ? '  ' : '';
    if (f.group && f.group !== open) {
      lines.push('');
      comment(GROUPS[f.group].doc, '');
      lines.push(`${f.group}:`);
    } else if (!f.group && f.spec.section !== false) {
      lines.push('');
    }
    open = f.group;
    comment(f.spec.doc, indent);
    lines.push(`${indent}${f.spec.yaml}: ${f.spec.codec.render(getField(shown, f))}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes a commented config file for `c`; refuses to overwrite an existing file unless `force`.
 * `data_dir` is written relative to the file, so the directory can be moved as a whole.
 */
export async function writeConfigFile(path: string, c: KoiNetConfig, options: { force?: boolean } = {}): Promise<void> {
  const filePath = resolve(path);
  if (!options.force && existsSync(filePath)) {
    throw new KoiNetError('config_exists', `config file ${filePath} already exists (use --force to overwrite)`);
  }
  await mkdir(dirname(filePath), { recursive: true });
  await writeFile(filePath, renderConfig(c, dirname(filePath)));
}
