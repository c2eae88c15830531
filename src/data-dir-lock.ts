/**
 * One process per data dir. Two nodes on one directory both rewrite identity.json, the cache and
 * the queues, and both announce themselves under one RID; so the node takes this lock before it
 * writes anything there.
 *
 * The lock is a file `<dataDir>/koi-net.lock` holding `{pid, token}`. It appears atomically with its
 * contents (written to a private temp file, then link(2)ed into place: link fails with EEXIST if
 * the lock exists, so exactly one of two racing starters creates it). A lock whose pid is no longer
 * alive (the holder was SIGKILLed) is stale and taken over under a second, short-lived lock
 * `koi-net.lock.takeover` (made the same way): its holder re-reads the lock and deletes it only if
 * it is still the very stale lock it judged (same pid and token), then every starter races for a
 * fresh lock with link as above. Nothing but a takeover removes a lock it does not own, and only
 * one takeover runs at a time, so a fresh lock made meanwhile is never moved or deleted. (Renaming
 * the lock aside and putting back a live one, as before, left a moment with no lock in which a
 * third starter could win too: two winners in a 12-way race, seen once in CI.)
 * A process that holds the lock and is alive is never displaced: its lock is only renamed away if
 * it is stale. Limitation: liveness is process.kill(pid, 0), so a stale lock whose pid was reused
 * by an unrelated process reads as held; the message names the pid, so an operator can check.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KoiNetError } from './errors.ts';

export const LOCK_FILE_NAME = 'koi-net.lock';

/** A second process (or a second node in this one) wants a data dir that is in use. */
export class DataDirLockedError extends KoiNetError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super('data_dir_locked', `data dir ${dataDir} is in use by pid ${pid}`);
  }
}

interface LockContents {
  pid: number;
  token: string;
}

/** How many times a starter re-examines the lock when others keep changing it under it. */
const MAX_ROUNDS = 200;

export class DataDirLock {
  private released = false;
  private readonly onExit = (): void => this.releaseSync();

  private constructor(
    readonly dataDir: string,
    readonly path: string,
    private readonly token: string,
  ) {
    // A process that exits without finalize (process.exit, an uncaught error) leaves no lock.
    // SIGKILL runs nothing: that lock is stale and the next start takes it over.
    process.on('exit', this.onExit);
  }

  /** Takes the lock of `dataDir` (created if missing), or throws DataDirLockedError. */
  static async acquire(dataDir: string): Promise<DataDirLock> {
    const dir = resolve(dataDir);
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE_NAME);
    const token = randomUUID();
    const mine: LockContents = { pid: process.pid, token };
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Registered before the link: another acquirer in this process may read the new lock
      // before tryCreate returns, and must see it as held.
      heldTokens.add(token);
      if (await tryCreate(path, mine)) return new DataDirLock(dir, path, token);
      heldTokens.delete(token);
      const held = await readLock(path);
      if (held === 'missing') continue;
      if (held !== 'unreadable' && isHeld(held)) throw new DataDirLockedError(dir, held.pid);
      await takeOverStale(path, held, token);
    }
    throw new KoiNetError('data_dir_lock_contended', `could not take the lock of data dir ${dir}: it kept changing (${path})`);
  }

  /** Removes the lock if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldTokens.delete(this.token);
    process.removeListener('exit', this.onExit);
    const held = await readLock(this.path);
    if (held !== 'missing' && held !== 'unreadable' && held.token === this.token) {
      await unlink(this.path).catch(() => undefined);
    }
  }

  private releaseSync(): void {
    if (this.released) return;
    this.released = true;
    try {
      const held = parseLock(readFileSync(this.path, 'utf8'));
      if (held?.token === this.token) unlinkSync(this.path);
    } catch {
      // Already gone; nothing to release.
    }
  }
}

/** Writes the contents to a private temp file and links it into place; false if a lock exists. */
async function tryCreate(path: string, contents: LockContents): Promise<boolean> {
  const temp = `${path}.${contents.pid}-${contents.token}.tmp`;
  await writeFile(temp, JSON.stringify(contents) + '\n', { mode: 0o644 });
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readLock(path: string): Promise<LockContents | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  return parseLock(text) ?? 'unreadable';
}

function parseLock(text: string): LockContents | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const { pid, token } = v as { pid?: unknown; token?: unknown };
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || typeof token !== 'string') return undefined;
    return { pid, token };
  } catch {
    return undefined;
  }
}

/**
 * Tokens of the locks this process holds. A lock naming our own pid with a token we do not hold
 * was left by an earlier process that had the same pid: in a container the node is always pid 1,
 * so after a kill and restart its stale lock names the new process itself.
 */
const heldTokens = new Set<string>();

function isHeld(lock: LockContents): boolean {
  if (lock.pid === process.pid) return heldTokens.has(lock.token);
  return isAlive(lock.pid);
}

/** EPERM means the process exists but belongs to someone else: alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Tokens of the takeovers this process runs (a takeover lock naming our pid but none of these is stale). */
const takeoverTokens = new Set<string>();

/**
 * Deletes the stale lock `stale` if it is still in place, under the takeover lock (see the file
 * comment). When another starter's takeover is running, waits a moment and lets the caller look
 * again; a takeover lock left by a dead process is removed.
 */
async function takeOverStale(path: string, stale: LockContents | 'unreadable', token: string): Promise<void> {
  const mutex = `${path}.takeover`;
  takeoverTokens.add(token);
  try {
    if (!(await tryCreate(mutex, { pid: process.pid, token }))) {
      const holder = await readLock(mutex);
      const live = holder !== 'missing' && holder !== 'unreadable' && (holder.pid === process.pid ? takeoverTokens.has(holder.token) : isAlive(holder.pid));
      if (holder !== 'missing' && !live) await unlink(mutex).catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 2));
      return;
    }
    try {
      const now = await readLock(path);
      const same =
        stale === 'unreadable'
          ? now === 'unreadable'
          : now !== 'missing' && now !== 'unreadable' && now.token === stale.token && now.pid === stale.pid;
      if (same) {
        await unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    } finally {
      await unlink(mutex).catch(() => undefined);
    }
  } finally {
    takeoverTokens.delete(token);
  }
}
