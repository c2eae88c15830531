/**
 * One process per data dir. Two nodes on one directory both rewrite identity.json, the cache and
 * the queues, and both announce themselves under one RID; so the node takes this lock before it
 * writes anything there.
 *
 * The lock is a file `<dataDir>/koi-net.lock` holding `{pid, token}`. It appears atomically with its
 * contents (written to a private temp file, then link(2)ed into place: link fails with EEXIST if
 * the lock exists, so exactly one of two racing starters creates it). A lock whose pid is no longer
 * alive (the holder was SIGKILLed) is stale and taken over:
 *  1. rename the lock to a private name (atomic: of two racers, one rename finds nothing);
 *  2. if the renamed file is the very stale lock we looked at (same token), delete it and race for
 *     a fresh lock with link as above; if it is not (another starter replaced the stale lock in
 *     between), link it back where it was, so that starter keeps its lock, and look again.
 * A process that holds the lock and is alive is never displaced: its lock is only renamed away if
 * it is stale. Limitation: liveness is process.kill(pid, 0), so a stale lock whose pid was reused
 * by an unrelated process reads as held; the message names the pid, so an operator can check.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KoiNetError } from "./errors.js";
export const LOCK_FILE_NAME = 'koi-net.lock';
/** A second process (or a second node in this one) wants a data dir that is in use. */
export class DataDirLockedError extends KoiNetError {
    dataDir;
    pid;
    constructor(dataDir, pid) {
        super('data_dir_locked', `data dir ${dataDir} is in use by pid ${pid}`);
        this.dataDir = dataDir;
        this.pid = pid;
    }
}
/** How many times a starter re-examines the lock when others keep changing it under it. */
const MAX_ROUNDS = 20;
export class DataDirLock {
    dataDir;
    path;
    token;
    released = false;
    onExit = () => this.releaseSync();
    constructor(dataDir, path, token) {
        this.dataDir = dataDir;
        this.path = path;
        this.token = token;
        // A process that exits without finalize (process.exit, an uncaught error) leaves no lock.
        // SIGKILL runs nothing: that lock is stale and the next start takes it over.
        process.on('exit', this.onExit);
    }
    /** Takes the lock of `dataDir` (created if missing), or throws DataDirLockedError. */
    static async acquire(dataDir) {
        const dir = resolve(dataDir);
        await mkdir(dir, { recursive: true });
        const path = join(dir, LOCK_FILE_NAME);
        const token = randomUUID();
        const mine = { pid: process.pid, token };
        for (let round = 0; round < MAX_ROUNDS; round++) {
            // Registered before the link: another acquirer in this process may read the new lock
            // before tryCreate returns, and must see it as held.
            heldTokens.add(token);
            if (await tryCreate(path, mine))
                return new DataDirLock(dir, path, token);
            heldTokens.delete(token);
            const held = await readLock(path);
            if (held === 'missing')
                continue;
            if (held !== 'unreadable' && isHeld(held))
                throw new DataDirLockedError(dir, held.pid);
            await takeOverStale(path, held, token);
        }
        throw new KoiNetError('data_dir_lock_contended', `could not take the lock of data dir ${dir}: it kept changing (${path})`);
    }
    /** Removes the lock if it is still ours. Idempotent. */
    async release() {
        if (this.released)
            return;
        this.released = true;
        heldTokens.delete(this.token);
        process.removeListener('exit', this.onExit);
        const held = await readLock(this.path);
        if (held !== 'missing' && held !== 'unreadable' && held.token === this.token) {
            await unlink(this.path).catch(() => undefined);
        }
    }
    releaseSync() {
        if (this.released)
            return;
        this.released = true;
        try {
            const held = parseLock(readFileSync(this.path, 'utf8'));
            if (held?.token === this.token)
                unlinkSync(this.path);
        }
        catch {
            // Already gone; nothing to release.
        }
    }
}
/** Writes the contents to a private temp file and links it into place; false if a lock exists. */
async function tryCreate(path, contents) {
    const temp = `${path}.${contents.pid}-${contents.token}.tmp`;
    await writeFile(temp, JSON.stringify(contents) + '\n', { mode: 0o644 });
    try {
        await link(temp, path);
        return true;
    }
    catch (err) {
        if (err.code === 'EEXIST')
            return false;
        throw err;
    }
    finally {
        await unlink(temp).catch(() => undefined);
    }
}
async function readLock(path) {
    let text;
    try {
        text = await readFile(path, 'utf8');
    }
    catch (err) {
        if (err.code === 'ENOENT')
            return 'missing';
        throw err;
    }
    return parseLock(text) ?? 'unreadable';
}
function parseLock(text) {
    try {
        const v = JSON.parse(text);
        if (typeof v !== 'object' || v === null)
            return undefined;
        const { pid, token } = v;
        if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || typeof token !== 'string')
            return undefined;
        return { pid, token };
    }
    catch {
        return undefined;
    }
}
/**
 * Tokens of the locks this process holds. A lock naming our own pid with a token we do not hold
 * was left by an earlier process that had the same pid: in a container the node is always pid 1,
 * so after a kill and restart its stale lock names the new process itself.
 */
const heldTokens = new Set();
function isHeld(lock) {
    if (lock.pid === process.pid)
        return heldTokens.has(lock.token);
    return isAlive(lock.pid);
}
/** EPERM means the process exists but belongs to someone else: alive. */
function isAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch (err) {
        return err.code === 'EPERM';
    }
}
/**
 * Moves a stale lock out of the way (see the file comment). Only ever deletes the exact file it
 * judged stale; anything else it moved is put back.
 */
async function takeOverStale(path, stale, token) {
    const aside = `${path}.stale-${process.pid}-${token}`;
    try {
        await rename(path, aside);
    }
    catch (err) {
        if (err.code === 'ENOENT')
            return; // another starter moved it first
        throw err;
    }
    const moved = await readLock(aside);
    const same = stale === 'unreadable'
        ? moved === 'unreadable'
        : moved !== 'missing' && moved !== 'unreadable' && moved.token === stale.token && moved.pid === stale.pid;
    if (same || (moved !== 'missing' && moved !== 'unreadable' && !isHeld(moved))) {
        await unlink(aside).catch(() => undefined);
        return;
    }
    // We moved a live lock that replaced the stale one meanwhile: give it back.
    try {
        await link(aside, path);
    }
    catch (err) {
        if (err.code !== 'EEXIST')
            throw err;
    }
    finally {
        await unlink(aside).catch(() => undefined);
    }
}
//# sourceMappingURL=data-dir-lock.js.map