/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): self time per function and per file, highest
 * first. `tsx scripts/bench/profile-summary.ts FILE.cpuprofile... [--top N]`; run.ts calls
 * `summarizeProfile` for the profiles `--profile` made.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle, not GC, not "(program)". */
  busyMs: number;
  gcMs: number;
  functions: { name: string; selfMs: number; pct: number }[];
  files: { file: string; selfMs: number; pct: number }[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shortFile(url: string): string {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    // The package, not the file: `node_modules/express` says enough.
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of self) {
    total += us;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)') {
      idle += us;
      continue;
    }
    if (f.functionName === '(garbage collector)') gc += us;
    const file = shortFile(f.url);
    const name = `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busy = total - idle;
  const ranked = <K extends string>(m: Map<string, number>, key: K): ({ selfMs: number; pct: number } & Record<K, string>)[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ [key]: k, selfMs: Math.round(us / 100) / 10, pct: Math.round((us / Math.max(1, busy)) * 1000) / 10 }) as { selfMs: number; pct: number } & Record<K, string>);
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    gcMs: Math.round(gc / 1000),
    functions: ranked(fns, 'name'),
    files: ranked(files, 'file'),
  };
}

export function formatSummary(file: string, s: ProfileSummary): string {
  const lines = [`${file}: ${s.busyMs} ms busy of ${s.totalMs} ms sampled (GC ${s.gcMs} ms)`, '  self time by function:'];
  for (const f of s.functions) lines.push(`    ${String(f.selfMs).padStart(8)} ms ${String(f.pct).padStart(5)}%  ${f.name}`);
  lines.push('  self time by file / package:');
  for (const f of s.files) lines.push(`    ${String(f.selfMs).padStart(8)} ms ${String(f.pct).padStart(5)}%  ${f.file}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
  for (const file of positionals) console.log(formatSummary(file, summarizeProfile(file, Number(values.top))));
}
