/**
 * The conformance suite against our own full node (every check must pass, with the probe
 * lifecycle and poll draining really exercised), against a node that ignores the probe type
 * (allowed: reported as skipped), and against a deliberately broken server (must fail, loudly).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  Bundle,
  Event,
  EventType,
  HandlerType,
  NodeInterface,
  STOP_CHAIN,
  startFullNode,
  type RunningFullNode,
} from '../../src/index.ts';
import {
  CHECK_NAMES,
  PROBE_RID_TYPE,
  UnknownCheckError,
  formatTable,
  runConformance,
  type ConformanceReport,
} from '../../scripts/conformance/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Started {
  node: NodeInterface;
  running: RunningFullNode;
  dir: string;
}

async function startOurNode(options: { ignoreProbeType?: boolean } = {}): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 'koi-conformance-'));
  const node = new NodeInterface({
    name: 'conformance-target',
    dataDir: dir,
    profile: { node_type: 'FULL', base_url: null, provides: { event: [PROBE_RID_TYPE], state: [PROBE_RID_TYPE] } },
  });
  if (options.ignoreProbeType) {
    // Stands in for a node that does not handle unknown RID types at all.
    node.processor.registerHandler(HandlerType.RID, { ridTypes: [PROBE_RID_TYPE], name: 'ignoreProbe' }, () => STOP_CHAIN);
  }
  const running = await startFullNode(node, { host: '127.0.0.1', port: 0, validateResponses: true });
  return { node, running, dir };
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s) return;
  await s.running.close();
  await s.node.finalize();
  await rm(s.dir, { recursive: true, force: true });
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Async on purpose: the node under test lives in this process and must keep answering. */
function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/conformance.ts', ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function failedNames(report: ConformanceReport): string[] {
  return report.results.filter((r) => !r.ok).map((r) => r.name);
}

/** A row of the printed table: `name  RESULT  detail`. */
function rowResult(table: string, name: string): string | undefined {
  const line = table.split('\n').find((l) => l.startsWith(`${name} `));
  return line?.slice(name.length).trim().split(/\s+/)[0];
}

describe('conformance suite (scripts/conformance)', function () {
  this.timeout(60_000);

  describe('against our full node', () => {
    let ours: Started | undefined;
    before(async () => {
      ours = await startOurNode();
    });
    after(async () => {
      await stop(ours);
    });

    it('passes every check, with the probe lifecycle and poll draining exercised', async () => {
      const { node, running } = ours!;
      const report = await runConformance({
        url: running.url,
        settleMs: 2_000,
        // Our node's own queue API: no live node queues events for a stranger, a test harness can.
        seedPollQueue: async (pollRid) => {
          for (let i = 0; i < 3; i++) {
            const bundle = Bundle.generate(`${PROBE_RID_TYPE}:seeded-${i}`, { i });
            await node.queues.pushPoll(pollRid, Event.fromBundle(bundle, EventType.NEW));
          }
          return 3;
        },
      });
      const failures = report.results.filter((r) => !r.ok);
      expect(failures, formatTable(report)).to.deep.equal([]);
      expect(report.results.map((r) => r.name)).to.deep.equal([...CHECK_NAMES]);
      expect(report.results.filter((r) => r.skipped).map((r) => r.name), formatTable(report)).to.deep.equal([]);
      expect(report.results.find((r) => r.name === 'events.poll.limit')?.detail).to.match(/^3 queued/);
      expect(report.ok).to.equal(true);
      // The lifecycle ends with FORGET and the cleanup: no probe RID is left behind.
      expect(node.cache.listRids([PROBE_RID_TYPE]).map(String)).to.deep.equal([]);
    });

    it('--only selects by exact name or dotted prefix; dependent lifecycle steps still run', async () => {
      const url = ours!.running.url;
      const invalid = await runConformance({ url, only: 'invalid' });
      expect(invalid.results.length).to.be.greaterThan(5);
      expect(invalid.results.every((r) => r.name.startsWith('invalid.') && r.ok)).to.equal(true);
      const update = await runConformance({ url, only: ['probe.update'], settleMs: 2_000 });
      expect(update.results.map((r) => [r.name, r.ok, r.skipped ?? false])).to.deep.equal([['probe.update', true, false]]);
      try {
        await runConformance({ url, only: 'no.such.check' });
        expect.fail('expected UnknownCheckError');
      } catch (err) {
        expect(err).to.be.instanceOf(UnknownCheckError);
      }
    });

    it('CLI: exit 0 and a pass table; --json gives the report', async () => {
      const url = ours!.running.url;
      const table = await runCli(['--url', url, '--settle', '2000']);
      expect(table.code, table.stdout + table.stderr).to.equal(0);
      expect(table.stdout).to.match(/^name\s+result\s+detail$/m);
      for (const name of CHECK_NAMES) expect(rowResult(table.stdout, name), name).to.equal('PASS');
      expect(table.stdout).to.match(/\b0 failed\b/);

      const json = await runCli(['--url', url, '--json', '--only', 'rids,events.poll.empty']);
      expect(json.code, json.stderr).to.equal(0);
      const report = JSON.parse(json.stdout) as ConformanceReport;
      expect(report.ok).to.equal(true);
      expect(report.results.map((r) => r.name)).to.deep.equal([
        'rids.fetch.valid',
        'rids.fetch.by-type',
        'rids.fetch.empty-object',
        'events.poll.empty',
      ]);

      const usage = await runCli(['--url', url, '--only', 'nope']);
      expect(usage.code).to.equal(2);
      expect(usage.stderr).to.include('unknown check name');
    });
  });

  it('a node that does not cache the probe type passes, reporting "not cached (allowed)"', async () => {
    let ignoring: Started | undefined;
    try {
      ignoring = await startOurNode({ ignoreProbeType: true });
      const report = await runConformance({ url: ignoring.running.url, only: 'probe', settleMs: 300 });
      expect(report.ok, formatTable(report)).to.equal(true);
      expect(report.results.map((r) => [r.name, r.skipped])).to.deep.equal([
        ['probe.new', true],
        ['probe.update', true],
        ['probe.forget', true],
      ]);
      expect(report.results[0]!.detail).to.include('not cached (allowed)');
    } finally {
      await stop(ignoring);
    }
  });

  describe('against a broken server', () => {
    let server: Server | undefined;
    let url = '';
    before(async () => {
      const app = express();
      // Bad JSON reaches the error handler below, which answers 500 like a crashing node.
      app.use(express.json({ type: () => true }));
      const bodyIsObject = (req: Request): boolean => typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body);
      const answers: Record<string, unknown> = {
        '/koi-net/rids/fetch': { rids: 'not a list' },
        '/koi-net/manifests/fetch': { manifests: [{ rid: 'x' }] },
        '/koi-net/bundles/fetch': { bundles: 5 },
        '/koi-net/events/poll': { events: {} },
        '/koi-net/events/broadcast': { ok: true },
      };
      app.post('/koi-net/*rest', (req: Request, res: Response) => {
        if (!bodyIsObject(req)) {
          res.status(500).send('Internal Server Error');
          return;
        }
        const answer = answers[req.path];
        if (answer === undefined) res.status(500).send('Internal Server Error');
        else res.json(answer);
      });
      app.use((_req: Request, res: Response) => {
        res.status(500).send('Internal Server Error');
      });
      app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).send('Internal Server Error');
      });
      await new Promise<void>((resolve) => {
        server = app.listen(0, '127.0.0.1', () => resolve());
      });
      url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/koi-net`;
    });
    after(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it('the module names the failing checks and the exact requests', async () => {
      const report = await runConformance({ url, settleMs: 200 });
      expect(report.ok).to.equal(false);
      const failed = failedNames(report);
      for (const name of [
        'rids.fetch.valid',
        'manifests.fetch.valid',
        'bundles.fetch.valid',
        'events.broadcast.empty',
        'events.poll.empty',
        'invalid.not-json',
        'invalid.json-array',
        'invalid.wrong-types',
        'invalid.text-plain',
        'method.get',
        'path.unknown',
        'probe.new',
        'probe.update',
        'probe.forget',
      ]) {
        expect(failed, name).to.include(name);
      }
      const notJson = report.results.find((r) => r.name === 'invalid.not-json')!;
      expect(notJson.detail).to.include('5xx: POST /events/broadcast (Content-Type: application/json) body="{bad json" -> 500');
      const rids = report.results.find((r) => r.name === 'rids.fetch.valid')!;
      expect(rids.detail).to.include('not a valid RidsPayload');
    });

    it('an unreachable node fails node.reachable once and reports the rest as not run', async () => {
      const closed = await new Promise<number>((resolve) => {
        const s = express().listen(0, '127.0.0.1', () => {
          const port = (s.address() as AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      const report = await runConformance({ url: `http://127.0.0.1:${closed}/koi-net`, timeoutMs: 2_000 });
      expect(report.ok).to.equal(false);
      expect(report.results[0]!.name).to.equal('node.reachable');
      expect(report.results[0]!.detail).to.match(/ECONNREFUSED/);
      expect(report.results.slice(1).every((r) => !r.ok && r.detail === 'not run: node unreachable')).to.equal(true);
      expect(report.results.length).to.equal(CHECK_NAMES.length);
    });

    it('CLI: non-zero exit and FAIL rows', async () => {
      const run = await runCli(['--url', url, '--settle', '200']);
      expect(run.code, run.stderr).to.equal(1);
      for (const name of ['rids.fetch.valid', 'invalid.not-json', 'invalid.wrong-types', 'method.get', 'probe.new']) {
        expect(rowResult(run.stdout, name), name).to.equal('FAIL');
      }
    });
  });
});
