/**
 * A throwaway PostgreSQL cluster of the tests' own: initdb into a temp dir, a free port on
 * 127.0.0.1 only, its unix socket in the temp dir, trust auth for user `koi`. One cluster per mocha
 * run (a lazy singleton, stopped and removed by a root `after` hook and, if the runner dies, at
 * exit); each suite takes a database of its own with `freshDatabase()`.
 *
 * PostgreSQL missing: installed with apt-get when we can (root and apt-get present, as on CI),
 * else the error names the exact command. initdb refuses to run as root, so as root the cluster
 * runs as the `postgres` user (Debian's package makes it; one is created when absent).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export const INSTALL_HINT = 'PostgreSQL is needed for the tests: run `apt-get update && apt-get install -y postgresql` (as root), or put initdb and pg_ctl on PATH';

export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** postgres://koi@127.0.0.1:PORT/DB */
  url(database: string): string;
  /** Stops the server (fast shutdown); `start()` brings it back on the same port and data. */
  stop(): void;
  start(): void;
}

let shared: PgCluster | undefined;
let sharedDestroy: (() => void) | undefined;
let dbCounter = 0;

/** The run's cluster, started on first use. */
export function sharedCluster(): PgCluster {
  if (!shared) {
    const made = makeCluster();
    shared = made.cluster;
    sharedDestroy = made.destroy;
  }
  return shared;
}

/** A new, empty database in the run's cluster; resolves to its URL. */
export async function freshDatabase(prefix = 'koi_test'): Promise<string> {
  const cluster = sharedCluster();
  const name = `${prefix}_${process.pid}_${++dbCounter}`;
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return cluster.url(name);
}

// A root-level hook: registered on mocha's root suite when this module is first imported.
if (typeof after === 'function') {
  after(function () {
    this.timeout(60_000);
    destroyShared();
  });
}
process.once('exit', destroyShared);

/** Stops and removes the run's cluster now (the bench, which has no mocha hooks; tests need not call it). */
export function destroySharedCluster(): void {
  destroyShared();
}

function destroyShared(): void {
  sharedDestroy?.();
  sharedDestroy = undefined;
  shared = undefined;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
}

/** initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin (newest). */
export function findBinaries(): Binaries | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return { initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl') };
  }
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  const v = versions[0];
  return v === undefined ? undefined : { initdb: join(base, v, 'bin', 'initdb'), pgCtl: join(base, v, 'bin', 'pg_ctl') };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ensureBinaries(): Binaries {
  const found = findBinaries();
  if (found) return found;
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (!isRoot() || !aptGet) throw new Error(INSTALL_HINT);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]): number | null => spawnSync(aptGet, args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status;
  if (run(['install', '-y', 'postgresql']) !== 0 && (run(['update']) !== 0 || run(['install', '-y', 'postgresql']) !== 0)) {
    throw new Error(`apt-get install -y postgresql failed. ${INSTALL_HINT}`);
  }
  const installed = findBinaries();
  if (!installed) throw new Error(`postgresql installed but no initdb found. ${INSTALL_HINT}`);
  return installed;
}

/** As root: the unprivileged user the cluster runs as (Debian's `postgres`, made when absent). */
function clusterUser(): { name: string; uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const name = 'postgres';
  const idOf = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  if (spawnSync('id', [name]).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
  return { name, uid: idOf('-u'), gid: idOf('-g') };
}

function makeCluster(): { cluster: PgCluster; destroy: () => void } {
  const bins = ensureBinaries();
  const user = clusterUser();
  const dir = mkdtempSync(join(tmpdir(), 'koi-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const asUser = (cmd: string, args: string[]): ReturnType<typeof spawnSync> =>
    user
      ? spawnSync('runuser', ['-u', user.name, '--', cmd, ...args], { encoding: 'utf8', cwd: dir })
      : spawnSync(cmd, args, { encoding: 'utf8', cwd: dir });
  const init = asUser(bins.initdb, ['-D', data, '-A', 'trust', '-U', 'koi', '--no-sync', '-E', 'UTF8', '--locale=C']);
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${String(init.stderr)}${String(init.stdout)}`);
  }
  let port = 0;
  let running = false;
  const startOn = (p: number): boolean => {
    const opts = `-c listen_addresses=127.0.0.1 -p ${p} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    const r = asUser(bins.pgCtl, ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
    running = r.status === 0;
    return running;
  };
  const cluster: PgCluster = {
    get port() {
      return port;
    },
    dir,
    url: (db) => `postgres://koi@127.0.0.1:${port}/${db}`,
    stop: () => {
      if (!running) return;
      asUser(bins.pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    start: () => {
      if (running) return;
      if (!startOn(port)) throw new Error(`restarting PostgreSQL on port ${port} failed; see ${log}`);
    },
  };
  return {
    cluster: startCluster(),
    destroy: () => {
      cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function startCluster(): PgCluster {
    // A candidate port may be taken between pick and bind: try a few.
    for (let i = 0; i < 5; i++) {
      port = candidatePortSync();
      if (startOn(port)) return cluster;
    }
    const tail = existsSync(log) ? spawnSync('tail', ['-n', '20', log], { encoding: 'utf8' }).stdout : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${tail}`);
  }
}

/** A free port, synchronously (the cluster starts from a synchronous singleton). */
function candidatePortSync(): number {
  const out = spawnSync(process.execPath, ['-e', "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  const port = Number(out.stdout.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no free port: ${out.stderr}`);
  return port;
}
