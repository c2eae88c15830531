/**
 * The package as a user gets it: `npm pack`, the tarball installed into a new project under
 * os.tmpdir(), then plain `node` (no tsx: the project does not even have it) and the repo's own tsc
 * against the installed copy only. Slow by nature (a build, an npm install), hence the long timeouts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cacheFileName } from '../../src/cache/index.ts';
import { Bundle, Event, EventType } from '../../src/knowledge/index.ts';
import { holdRefusingPort } from '../helpers/ports.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

/** What a user's shell would have: none of npm's lifecycle variables, no KOI_NET_*, no loader flags. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && !k.startsWith('KOI_NET_') && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD'),
  );
  return { ...env, ...extra };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function must(r: Run, what: string): Run {
  expect(r.code, `${what} failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
  return r;
}

/** The ```ts block under "## Writing a node" in README.md, exactly as printed. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('\n## Writing a node\n');
  expect(section, 'README has a "Writing a node" section').to.be.greaterThan(-1);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  expect(match, 'a ts block in that section').to.not.equal(null);
  return match![1]!;
}

/** A resolve hook that appends every URL it resolves to $RESOLVED_LOG. */
const RECORD_HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.RESOLVED_LOG, result.url + '\\n');
  return result;
}
`;

/** Package names of the node_modules files a resolve-hook log lists. */
function packagesIn(urls: string[]): Set<string> {
  const names = new Set<string>();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** The "node started" log line's fields this file reads. */
interface StartedLine {
  pid: number;
  url: string;
  rid: string;
}

/**
 * Collects `child`'s stdout and stderr, and waits up to `timeoutMs` for its "node started" line;
 * `line` is undefined when the process exited first or the time ran out.
 */
async function watchStart(child: ChildProcess, timeoutMs: number): Promise<{ line: StartedLine | undefined; output(): string; exited: Promise<number | null> }> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const output = (): string => out;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    const line = out.split('\n').find((l) => l.includes('"node started"'));
    if (line) return { line: JSON.parse(line) as StartedLine, output, exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  return { line: undefined, output, exited };
}

interface InstalledNode {
  url: string;
  /** Everything the node wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** `node [nodeArgs] node_modules/koi-net/bin/koi-net.js start ...` in `app`, once it says "node started". */
async function startInstalled(app: string, nodeArgs: string[], dataDir: string, env: NodeJS.ProcessEnv): Promise<InstalledNode> {
  const bin = join(app, 'node_modules', 'koi-net', 'bin', 'koi-net.js');
  const child = spawn(process.execPath, [...nodeArgs, bin, 'start', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--name', 'bundled'], { cwd: app, env });
  const { line, output, exited } = await watchStart(child, 60_000);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    if (code !== 'timeout') return code;
    child.kill('SIGKILL');
    return exited;
  };
  if (line) return { url: line.url, output, stop };
  await stop();
  throw new Error(`the installed koi-net did not start:\n${output()}`);
}

/** Broadcasts `bundle` as a NEW event to `url` and waits until its cache file under `dataDir` holds it. */
async function broadcastUntilOnDisk(url: string, dataDir: string, bundle: Bundle): Promise<unknown> {
  const res = await fetch(`${url}/events/broadcast`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [Event.fromBundle(bundle, EventType.NEW).toJSON()] }),
  });
  expect(res.status, await res.text()).to.equal(200);
  const file = join(dataDir, 'cache', cacheFileName(bundle.rid));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // The write-behind renames a complete temp file into place: present means whole.
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8'));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} was not written`);
}

describe('package: npm pack, install into a new project, use with plain node and tsc', function () {
  this.timeout(300_000);
  let tmp: string;
  let app: string;
  let tarball: string;
  let packed: { size: number; entryCount: number; files: { path: string }[] };
  let coordinator: { child: ChildProcess; pid: number; url: string; rid: string; exited: Promise<number | null> } | undefined;

  before(async function () {
    this.timeout(600_000);
    tmp = await mkdtemp(join(tmpdir(), 'koi-pkg-'));
    // prepack builds dist/ from the current sources first.
    const pack = must(await run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT), 'npm pack');
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed & { filename: string })[];
    packed = info[0]!;
    tarball = join(tmp, info[0]!.filename);
    app = join(tmp, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'koi-net-consumer', private: true, type: 'module' }, null, 2));
    must(
      await run('npm', ['install', tarball, `@types/node@${PKG.devDependencies['@types/node']}`, '--prefer-offline', '--no-audit', '--no-fund'], app),
      'npm install of the tarball',
    );

    // A coordinator started the way the README says, from this installation.
    const child = spawn('npx', ['koi-net', 'start', '--role', 'coordinator', '--name', 'coordinator', '--port', '0', '--data-dir', join(tmp, 'coordinator')], {
      cwd: app,
      env: userEnv(),
    });
    const { line, output, exited } = await watchStart(child, 120_000);
    if (line) coordinator = { child, pid: line.pid, url: line.url, rid: line.rid, exited };
    expect(coordinator, `npx koi-net start did not start:\n${output()}`).to.not.equal(undefined);
  });

  after(async function () {
    this.timeout(60_000);
    if (coordinator) {
      // npx runs the bin through a shell that does not pass signals on, so the node gets them itself.
      try {
        process.kill(coordinator.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const code = await Promise.race([coordinator.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
      if (code === 'timeout') {
        coordinator.child.kill('SIGKILL');
        try {
          process.kill(coordinator.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      expect(code, 'the node stops on SIGTERM').to.equal(0);
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the tarball ships dist/ (the library: JS, .d.ts, maps; the CLI bundle), the bin, the OpenAPI document, README, LICENSE and CHANGELOG; nothing of test/, scripts/ or CI', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/koi-net.js', 'openapi/koi-net.openapi.yaml',
      'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'dist/src/client.js', 'dist/src/client.d.ts',
      'dist/src/secure/index.js', 'dist/src/cli.js', 'dist/generated/hey-api/sdk.gen.js', 'dist/generated/hey-api/client/client.gen.js',
      'dist/cli/cli.js', 'dist/cli/early-start.js', 'dist/cli/thread.js', 'dist/cli/cli.js.map']) {
      expect(paths, p).to.include(p);
    }
    const stray = paths.filter((p) => !/^(dist\/(src|generated|cli)\/|bin\/koi-net\.js$|openapi\/koi-net\.openapi\.yaml$|(package\.json|README\.md|LICENSE|CHANGELOG\.md)$)/.test(p));
    expect(stray, 'files outside the list').to.deep.equal([]);
    expect(paths.filter((p) => /(^|\/)(test|scripts|fixtures|\.ci|codegen|examples)\//.test(p) || p.endsWith('.ts') && !p.endsWith('.d.ts'))).to.deep.equal([]);
    expect(existsSync(join(app, 'node_modules', 'tsx')), 'tsx is for development only').to.equal(false);
    expect(existsSync(join(app, 'node_modules', 'typescript')), 'typescript is for development only').to.equal(false);
  });

  it('`koi-net --version` from the installation answers in well under half a second', async () => {
    const bin = join(app, 'node_modules', '.bin', 'koi-net');
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = must(await run(bin, ['--version'], app), 'koi-net --version');
      expect(r.stdout).to.equal(`${PKG.version}\n`);
      times.push(r.ms);
    }
    // Best of five: the machine is shared, a single run can be delayed by others.
    expect(Math.min(...times), `times ${times.map((t) => t.toFixed(0)).join(', ')} ms`).to.be.lessThan(500);
    expect(must(await run('npx', ['koi-net', '--version'], app), 'npx koi-net --version').stdout).to.equal(`${PKG.version}\n`);
  });

  it('an ESM script uses koi-net/client against the node on plain node, and loads no server stack nor any other package', async () => {
    // A resolve hook records every module the script loads.
    await writeFile(join(app, 'record-hooks.mjs'), RECORD_HOOKS);
    await writeFile(join(app, 'client.mjs'), `import { register } from 'node:module';
register('./record-hooks.mjs', import.meta.url);
const { createKoiNetClient, fetchRids, fetchBundles } = await import('koi-net/client');
const client = createKoiNetClient(process.argv[2]);
const rids = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
const bundles = await fetchBundles(client, { rids: rids.data.rids });
console.log(JSON.stringify({ rids: rids.data.rids, bundles: bundles.data.bundles }));
`);
    const log = join(tmp, 'resolved.log');
    const r = must(await run(process.execPath, ['client.mjs', coordinator!.url], app, userEnv({ RESOLVED_LOG: log })), 'client.mjs');
    const answer = JSON.parse(r.stdout) as { rids: string[]; bundles: { manifest: { rid: string }; contents: { base_url: string } }[] };
    expect(answer.rids).to.include(coordinator!.rid);
    expect(answer.bundles.find((b) => b.manifest.rid === coordinator!.rid)?.contents.base_url).to.equal(coordinator!.url);

    const urls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(urls.some((u) => u.endsWith('/node_modules/koi-net/dist/src/client.js')), urls.join('\n')).to.equal(true);
    // The SDK's fetch client is generated into the package: no runtime dependency at all.
    expect([...packagesIn(urls)].sort()).to.deep.equal(['koi-net']);
    const koiFiles = urls.filter((u) => u.includes('/node_modules/koi-net/')).map((u) => u.slice(u.indexOf('/node_modules/koi-net/') + 22));
    // By module path: the generated client's own files (e.g. core/serverSentEvents.gen.js) are not the server.
    expect(koiFiles.filter((f) => /^dist\/src\/(server\/|node\.js|logger\.js|full-node\.js)/.test(f)), 'node stack files').to.deep.equal([]);
  });

  it('the installed node serves its docs, health and status pages from files the package and its dependencies ship', async () => {
    const base = coordinator!.url;
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).to.equal(200);
    const html = await docs.text();
    // Every asset the docs and status pages refer to is served by the node itself (no CDN).
    const status = await fetch(`${base}/status`);
    expect(status.status).to.equal(200);
    const statusHtml = await status.text();
    expect(statusHtml).to.include(coordinator!.rid);
    const refs = [...`${html}${statusHtml}`.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => /^[a-z]+:|^\/\//i.test(r)), 'absolute URLs').to.deep.equal([]);
    expect(refs).to.include('assets/swagger-ui-bundle.js');
    for (const ref of new Set(refs)) {
      const res = await fetch(new URL(ref, `${base}/docs`));
      expect(res.status, ref).to.equal(200);
      expect((await res.arrayBuffer()).byteLength, ref).to.be.greaterThan(0);
    }
    const health = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(health).to.include({ status: 'ok', rid: coordinator!.rid, version: PKG.version, protocol: 'unsigned' });
  });

  it("`import { NodeInterface, RID, Bundle } from 'koi-net'` works on plain node, and the OpenAPI document is found", async () => {
    await writeFile(join(app, 'main.mjs'), `import { NodeInterface, RID, Bundle, openapiDocument, KoiNetNode } from 'koi-net';
import * as secure from 'koi-net/secure';
const rid = RID.fromString('orn:my.thing:1');
const bundle = Bundle.generate(rid, { title: 'hello' });
console.log(JSON.stringify({
  node: typeof NodeInterface, rid: String(rid), hash: bundle.manifest.sha256Hash,
  openapi: openapiDocument.openapi, paths: Object.keys(openapiDocument.paths).length,
  nodeRid: KoiNetNode.generate('x') instanceof RID, secure: typeof secure.verifySignature,
}));
`);
    const r = must(await run(process.execPath, ['main.mjs'], app), 'main.mjs');
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).to.include({ node: 'function', rid: 'orn:my.thing:1', nodeRid: true, secure: 'function' });
    expect(out.hash).to.match(/^[0-9a-f]{64}$/);
    expect(out.openapi).to.match(/^3\./);
    expect(out.paths).to.equal(5);
  });

  it('a strict TypeScript consumer type-checks under nodenext and bundler resolution; the nodenext build and the README example run', async () => {
    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(join(app, 'src', 'consumer.ts'), `import { NodeInterface, RID, Bundle, NodeType, type KoiNetConfig, type NodeProfile } from 'koi-net';
import { createKoiNetClient, fetchRids, type KoiNetClient } from 'koi-net/client';
import { verifySignature } from 'koi-net/secure';

const rid: RID = RID.fromString('orn:my.thing:1');
const bundle: Bundle = Bundle.generate(rid, { title: 'hello' });
const client: KoiNetClient = createKoiNetClient(process.argv[2] ?? 'http://127.0.0.1:1/koi-net');
const profile: NodeProfile = { node_type: NodeType.PARTIAL, base_url: null, provides: { event: [], state: [] } };
const kind: KoiNetConfig['type'] = 'partial';
const answer = await fetchRids(client, { rid_types: ['orn:koi-net.node'] });
const rids: string[] = answer.data?.rids ?? [];
console.log(JSON.stringify({ hash: bundle.manifest.sha256Hash, kind, type: profile.node_type, rids, node: typeof NodeInterface, verify: typeof verifySignature }));
`);
    await writeFile(join(app, 'src', 'readme-example.ts'), readmeExample());
    const common = { strict: true, target: 'es2022', types: ['node'], skipLibCheck: false };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out', rootDir: 'src' }, include: ['src'] }, null, 2));
    await writeFile(join(app, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...common, module: 'preserve', moduleResolution: 'bundler', noEmit: true }, include: ['src'] }, null, 2));

    must(await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app), 'tsc --module nodenext');
    must(await run(process.execPath, [TSC, '-p', 'tsconfig.bundler.json'], app), 'tsc --moduleResolution bundler');

    const consumer = JSON.parse(must(await run(process.execPath, ['out/consumer.js', coordinator!.url], app), 'out/consumer.js').stdout) as { rids: string[]; hash: string; node: string };
    expect(consumer.rids).to.include(coordinator!.rid);
    expect(consumer.node).to.equal('function');

    // The README example, as printed, introduced to the coordinator through FIRST_CONTACT.
    const example = must(await run(process.execPath, ['out/readme-example.js'], app, userEnv({ FIRST_CONTACT: coordinator!.url })), 'README example');
    expect(example.stdout).to.match(/^myfullnode serves http:\/\/127\.0\.0\.1:\d+\/koi-net$/m);
    expect(example.stdout).to.include("cached orn:my.thing:42: { title: 'hello' }");
    const identity = JSON.parse(await readFile(join(app, '.koi', 'myfullnode', 'identity.json'), 'utf8')) as { rid: string };
    const deadline = Date.now() + 20_000;
    let known: string[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${coordinator!.url}/rids/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rid_types: ['orn:koi-net.node'] }) });
      known = ((await res.json()) as { rids: string[] }).rids;
      if (known.includes(identity.rid)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(known, 'the coordinator learned the README node').to.include(identity.rid);
  });

  it('the installed bin runs the CLI bundle: no dist/src module is loaded, and the cache writer thread runs from dist/cli/', async () => {
    await writeFile(join(app, 'record-hooks.mjs'), RECORD_HOOKS);
    await writeFile(join(app, 'record-start.mjs'), "import { register } from 'node:module';\nregister('./record-hooks.mjs', import.meta.url);\n");
    const log = join(tmp, 'resolved-start.log');
    const dataDir = join(tmp, 'bundled');
    const node = await startInstalled(app, ['--import', './record-start.mjs'], dataDir, userEnv({ RESOLVED_LOG: log }));
    let code: number | null;
    try {
      const bundle = Bundle.generate('orn:package.test:written', { title: 'through the writer thread' });
      expect(await broadcastUntilOnDisk(node.url, dataDir, bundle)).to.deep.equal(bundle.toJSON());
      // An express-pipeline answer too (a contract refusal), so the lazily loaded parts are in the log.
      const refused = await fetch(`${node.url}/rids/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rid_types":"x"}' });
      expect(refused.status).to.equal(422);
    } finally {
      code = await node.stop();
    }
    expect(code, node.output()).to.equal(0);
    // The thread-pool fallback and the verifier's main-thread fallback both log a warning.
    expect(node.output()).to.not.match(/thread did not start|thread failed/);

    const koiFiles = (await readFile(log, 'utf8')).trim().split('\n').filter((u) => u.includes('/node_modules/koi-net/')).map((u) => u.slice(u.indexOf('/node_modules/koi-net/') + 22));
    expect(koiFiles, koiFiles.join('\n')).to.include.members(['bin/koi-net.js', 'dist/cli/early-start.js', 'dist/cli/cli.js']);
    expect(koiFiles.filter((f) => !/^(bin\/koi-net\.js|dist\/cli\/[\w-]+\.js)$/.test(f)), 'files outside the bundle').to.deep.equal([]);
    // A handful of files, where dist/src/ is ~200 modules.
    expect(new Set(koiFiles).size).to.be.lessThan(20);
  });

  it('without dist/cli/thread.js the same write warns and goes through the thread pool (so the warning is the signal the test above relies on)', async () => {
    const thread = join(app, 'node_modules', 'koi-net', 'dist', 'cli', 'thread.js');
    const aside = `${thread}.aside`;
    const { rename } = await import('node:fs/promises');
    await rename(thread, aside);
    try {
      const dataDir = join(tmp, 'no-thread');
      const node = await startInstalled(app, [], dataDir, userEnv());
      try {
        const bundle = Bundle.generate('orn:package.test:fallback', { title: 'on the thread pool' });
        expect(await broadcastUntilOnDisk(node.url, dataDir, bundle)).to.deep.equal(bundle.toJSON());
      } finally {
        expect(await node.stop(), node.output()).to.equal(0);
      }
      expect(node.output()).to.include('cache writer thread did not start');
      // The writes the thread had were handed to the thread pool as they were, not failed.
      expect(node.output()).to.not.include('cache write failed');
    } finally {
      await rename(aside, thread);
    }
  });

  it('`koi-net --help`, `migrate --help` and the PostgreSQL path (a clear error without a server) from the bundle', async () => {
    const bin = join(app, 'node_modules', '.bin', 'koi-net');
    const help = must(await run(bin, ['--help'], app), 'koi-net --help');
    expect(help.stdout).to.include('koi-net start').and.to.include('koi-net migrate');
    const migrate = must(await run(bin, ['migrate', '--help'], app), 'koi-net migrate --help');
    expect(migrate.stdout).to.match(/^Usage: koi-net migrate/);
    const refusing = await holdRefusingPort();
    try {
      const url = `postgres://koi@127.0.0.1:${refusing.port}/koi`;
      const status = await run(bin, ['status', '--store', url], app);
      expect(status.code, status.stderr).to.equal(1);
      expect(status.stderr).to.equal(`koi-net: cannot reach the PostgreSQL store ${url}: connect ECONNREFUSED 127.0.0.1:${refusing.port}\n`);
    } finally {
      await refusing.close();
    }
  });
});
