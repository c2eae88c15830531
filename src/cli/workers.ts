/**
 * `koi-net start --workers N`: the primary process forks N workers with node:cluster, all serving
 * one port (the primary accepts connections and hands them out round robin). The primary only
 * supervises: it holds no store and no node. A worker that dies is forked again after a backoff
 * (doubling from 500 ms to 30 s; a worker that lived a minute resets it); SIGTERM/SIGINT are
 * forwarded to every worker for a graceful stop, and the primary exits once they all have. The
 * workers are ordinary `koi-net start` processes on a shared PostgreSQL store (src/postgres/).
 */
import cluster, { type Worker } from 'node:cluster';
import { ConfigError } from '../config/index.ts';
import type { KoiNetConfig } from '../config/index.ts';
import type { Logger } from '../logger.ts';

/** The port the primary chose, handed to its workers (port 0 must mean one port for all). */
export const CLUSTER_PORT_ENV = 'KOI_NET_CLUSTER_PORT';

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

/** Refuses what several workers cannot do; nothing is started. */
export function checkWorkers(config: KoiNetConfig): void {
  if (config.workers <= 1) return;
  if (!config.store) {
    throw new ConfigError('workers', `${config.workers} workers need a PostgreSQL store (--store postgres://USER@HOST:PORT/DB): the files in a data dir are kept by one process`);
  }
  if (config.type !== 'full') throw new ConfigError('workers', 'several workers serve a full node (one port); a partial node runs as one process');
}

/** True in a process the supervisor forked. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** The port a worker listens on: the primary's choice. */
export function clusterPort(): number | undefined {
  const value = process.env[CLUSTER_PORT_ENV];
  return cluster.isWorker && value ? Number(value) : undefined;
}

/** Runs the supervisor until a signal stops it; resolves to the exit code. */
export function superviseWorkers(options: { count: number; port: number; url: string; logger: Logger }): Promise<number> {
  const { count, port, logger } = options;
  // The workers run this same command line (process.argv[1] with its flags, and Node's execArgv).
  cluster.setupPrimary({ silent: false });
  let stopping = false;
  let backoff = MIN_BACKOFF_MS;
  const born = new Map<number, number>();
  const listening = new Set<number>();
  let announced = false;

  const fork = (): Worker => {
    const worker = cluster.fork({ [CLUSTER_PORT_ENV]: String(port) });
    born.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('listening', (worker) => {
    listening.add(worker.id);
    const pid = worker.process.pid;
    if (!announced && listening.size >= count) {
      announced = true;
      logger.info({ url: options.url, port, workers: Object.values(cluster.workers ?? {}).map((w) => w?.process.pid) }, 'workers started');
    } else if (announced) logger.info({ pid, port }, 'worker started');
  });

  return new Promise<number>((resolveExit) => {
    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker.id);
      const lived = Date.now() - (born.get(worker.id) ?? Date.now());
      born.delete(worker.id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          logger.info({}, 'all workers stopped');
          resolveExit(0);
        }
        return;
      }
      if (lived >= HEALTHY_AFTER_MS) backoff = MIN_BACKOFF_MS;
      logger.error({ pid: worker.process.pid, code, signal, restartInMs: backoff }, 'worker died; forking another');
      const timer = setTimeout(() => {
        if (!stopping) fork();
      }, backoff);
      timer.unref();
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });

    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal; stopping the workers now');
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
        resolveExit(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'shutting down the workers');
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) return resolveExit(0);
      for (const worker of workers) worker?.process.kill('SIGTERM');
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);

    for (let i = 0; i < count; i++) fork();
  });
}
