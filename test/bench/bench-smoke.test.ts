import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCENARIOS = ['ingest', 'state', 'small', 'fanout', 'graph', 'startup', 'memory'];

interface BenchReport {
  quick: boolean;
  scenarios: Record<string, { rows?: { scenario: string; case: string }[]; error?: string }>;
}

// Only checks that every scenario runs end to end and lands in the JSON; timings on a shared CI
// machine say nothing, so nothing here asserts on them.
describe('npm run bench -- --quick', function () {
  this.timeout(240_000);
  let out: string;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'koi-bench-smoke-'));
  });
  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('runs every scenario in a child process and writes the JSON report', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/bench/run.ts', '--quick', '--out', out],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 230_000 },
        (err, so, se) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: so, stderr: se }),
      );
      child.stdin?.end();
    });
    expect(code, `bench failed:\n${stderr}`).to.equal(0);
    expect(stdout).to.match(/\| scenario/);

    const files = readdirSync(out);
    expect(files).to.include('latest.json');
    expect(files.filter((f) => f !== 'latest.json' && f.endsWith('.json'))).to.have.length(1);
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
    expect(report.quick).to.equal(true);
    for (const name of SCENARIOS) {
      const result = report.scenarios[name];
      expect(result, name).to.not.equal(undefined);
      expect(result?.error, `${name} error`).to.equal(undefined);
      expect(result?.rows?.length ?? 0, `${name} rows`).to.be.greaterThan(0);
    }
  });
});
