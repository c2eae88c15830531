/**
 * `npm run bench -- [--quick] [--only NAME[,NAME]] [--out DIR] [--keep-data | --data DIR] [--profile DIR]`:
 * runs the scenarios of scenarios.ts against real nodes on 127.0.0.1, prints a table (each row
 * beside its target of issue 12, met or not, and the Python reference figure with the ratio) and
 * writes `<out>/<timestamp>.json` and `<out>/latest.json` (out defaults to bench-results).
 * `--profile DIR` runs every node process under `node --cpu-prof`, one folder per scenario, and
 * prints a summary of each profile (see profile-summary.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIOS, type Row, type ScenarioContext } from './scenarios.ts';
import { formatSummary, summarizeProfile } from './profile-summary.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    out: { type: 'string', default: 'bench-results' },
    'keep-data': { type: 'boolean', default: false },
    /** Reuse (and keep) the caches of an earlier `--keep-data` run: building 100k files takes ~40 s. */
    data: { type: 'string' },
    /** Write a CPU profile of every node process into DIR/<scenario>/ and summarise it. */
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      'npm run bench -- [--quick] [--only NAME[,NAME]] [--out DIR] [--keep-data | --data DIR] [--profile DIR]',
      `  --only NAME      run these scenarios only (${Object.keys(SCENARIOS).join(', ')})`,
      '  --quick          a smoke run: small sizes, no timing worth reading (part of npm test; pg only with --only pg)',
      '  pg               PostgreSQL rows: a throwaway cluster (initdb, needs PostgreSQL installed), koi-net start --store,',
      '                   1 worker, and 2 workers when the CLI takes --workers (skipped, with the reason, when not)',
      '  --out DIR        where the JSON results go (default bench-results)',
      '  --keep-data      keep the generated caches; --data DIR reuses them (100k files take ~40 s)',
      '  --profile DIR    run every node process under --cpu-prof and summarise each profile',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const names = (values.only ?? []).flatMap((s) => s.split(',')).filter(Boolean);
for (const n of names) {
  if (!(n in SCENARIOS)) {
    console.error(`unknown scenario ${n}; known: ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
}
// The PostgreSQL rows start a cluster of their own (~12 s even when quick): the smoke run inside
// npm test leaves them out unless named (--only pg).
const selected = names.length > 0 ? names : Object.keys(SCENARIOS).filter((n) => !(values.quick && n === 'pg'));
const reuse = values.data !== undefined;
const workDir = reuse ? resolve(values.data!) : mkdtempSync(join(tmpdir(), 'koi-bench-'));
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const profileDir = values.profile !== undefined ? resolve(values.profile) : undefined;
const baseCtx = { quick: values.quick ?? false, workDir, log };
const ctxFor = (name: string): ScenarioContext => ({
  ...baseCtx,
  nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : [],
});
const ctx = ctxFor('');

const startedAt = new Date();
const results: Record<string, { rows: Row[]; ms: number } | { error: string; ms: number }> = {};
let failed = false;
try {
  for (const name of selected) {
    log(`[bench] ${name}${ctx.quick ? ' (quick)' : ''}`);
    const t0 = performance.now();
    try {
      results[name] = { rows: await SCENARIOS[name]!(ctxFor(name)), ms: Math.round(performance.now() - t0) };
    } catch (err) {
      failed = true;
      log(`[bench] ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      results[name] = { error: String(err), ms: Math.round(performance.now() - t0) };
    }
  }
} finally {
  if (!values['keep-data'] && !reuse) rmSync(workDir, { recursive: true, force: true });
  else log(`[bench] data kept in ${workDir}`);
}

const report = {
  startedAt: startedAt.toISOString(),
  quick: ctx.quick,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', totalMemMb: Math.round(totalmem() / 2 ** 20), node: process.version },
  scenarios: results,
};

const outDir = resolve(values.out ?? 'bench-results');
mkdirSync(outDir, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const json = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(join(outDir, `${stamp}.json`), json);
writeFileSync(join(outDir, 'latest.json'), json);

const header = ['scenario', 'case', 'p50 ms', 'p99 ms', 'throughput', 'peak RSS MB', 'target', 'met', 'Python ref', 'x ref'];
const table: string[][] = [];
for (const [name, r] of Object.entries(results)) {
  if ('error' in r) {
    table.push([name, `FAILED: ${r.error}`, '', '', '', '', '', '', '', '']);
    continue;
  }
  for (const row of r.rows) {
    table.push([
      row.scenario,
      row.case,
      row.latency ? String(row.latency.medianMs) : row.value !== undefined ? `${row.value} ${row.valueUnit ?? ''}`.trim() : '',
      row.latency ? String(row.latency.p99Ms) : '',
      row.throughput !== undefined ? `${row.throughput} ${row.throughputUnit ?? ''}`.trim() : '',
      row.peakRssMb !== undefined ? String(row.peakRssMb) : '',
      row.target ?? '',
      row.met === undefined ? '' : row.met ? 'met' : 'NOT MET',
      row.reference ?? '',
      row.vsReference !== undefined ? `${row.vsReference}x` : '',
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table) console.log(line(r));
const rowsWithTarget = table.filter((r) => r[7] !== '');
const missed = rowsWithTarget.filter((r) => r[7] === 'NOT MET').length;
console.log(`\n${rowsWithTarget.length - missed} of ${rowsWithTarget.length} targets met${ctx.quick ? ' (quick run: sizes differ, targets are indicative only)' : ''}`);
if (profileDir && existsSync(profileDir)) {
  for (const name of selected) {
    const dir = join(profileDir, name);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
      console.log(`\n${formatSummary(join(dir, f), summarizeProfile(join(dir, f)))}`);
    }
  }
}
console.log(`\nresults: ${join(outDir, `${stamp}.json`)}`);
process.exit(failed ? 1 : 0);
