/**
 * What the migrations share (from a Python node, and between files and PostgreSQL): their error,
 * and writing a new node data directory all or nothing: everything goes into a temporary directory
 * beside the target, renamed into place at the end and removed on any failure, so the target either
 * is a whole node or does not exist.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Event } from '../knowledge/index.ts';
import { silentLogger } from '../logger.ts';
import { EventQueues } from '../queues/index.ts';

/** A refusal or failure of a migration: one line for the user, nothing written. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `fill` writes the node's files into the temporary directory it is given. */
export async function writeNewDataDir(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.migrate-${process.pid}-${Date.now()}`);
  try {
    await mkdir(tmp);
    await fill(tmp);
    if (await exists(target)) throw new MigrationError(`${target} appeared while migrating; nothing written there`);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Queued events, in order per peer, as the file-backed event queues of `dir` (none: no file). */
export async function writeQueuedEvents(dir: string, queued: readonly { kind: 'webhook' | 'poll'; node: string; event: Event }[]): Promise<void> {
  if (queued.length === 0) return;
  const queues = await EventQueues.open(join(dir, 'event_queues.json'), { logger: silentLogger });
  for (const q of queued) await (q.kind === 'webhook' ? queues.pushWebhook(q.node, q.event) : queues.pushPoll(q.node, q.event));
  await queues.close();
}
