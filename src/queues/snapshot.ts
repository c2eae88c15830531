import { writeSnapshotStream } from '../storage/index.ts';
import type { Logger } from '../logger.ts';
import { isRecord } from './records.ts';
import type { Capture, Entry, QueueState } from './state.ts';

/**
 * Writes the snapshot in the reference's `EventQueueModel` layout (`webhook`, `poll`: node -> wire
 * events), so a Python node and `koi-net status` can read it, plus `webhook_inflight` and
 * `journal_gen` (pydantic ignores extra keys). Streamed in bounded chunks, then renamed into place.
 */
export function writeQueueSnapshot(path: string, capture: Capture, gen: number): Promise<void> {
  return writeSnapshotStream(path, async (put) => {
    const section = async (name: string, queues: [string, string[]][], first: boolean): Promise<void> => {
      await put(`${first ? '{' : ','}${JSON.stringify(name)}:{`);
      for (let q = 0; q < queues.length; q++) {
        const [key, texts] = queues[q]!;
        await put(`${q > 0 ? ',' : ''}${JSON.stringify(key)}:[`);
        for (let i = 0; i < texts.length; i += 1000) {
          await put(`${i > 0 ? ',' : ''}${texts.slice(i, i + 1000).join(',')}`);
        }
        await put(']');
      }
      await put('}');
    };
    await section('webhook', capture.webhook, true);
    await section('poll', capture.poll, false);
    await section('webhook_inflight', capture.inflight, false);
    await put(`,"journal_gen":${gen}}\n`);
  });
}

/**
 * Loads a parsed snapshot (current, older ours, or the Python reference's layout) into `state`;
 * returns its journal generation, or why it is corrupt (then nothing was loaded).
 */
export function loadQueueSnapshot(state: QueueState, raw: unknown, logger: Logger): number | string {
  if (!isRecord(raw)) return 'top level is not a JSON object';
  const sections: [string, (key: string, entry: Entry) => void][] = [
    // No cap here: it is applied once everything is loaded, with the usual warning.
    ['webhook', (key, entry) => state.pushBack('webhook', key, entry, Infinity, false)],
    ['poll', (key, entry) => state.pushBack('poll', key, entry, Infinity, false)],
    [
      'webhook_inflight',
      (key, entry) => {
        let batch = state.inflight.get(key);
        if (!batch) state.inflight.set(key, (batch = []));
        batch.push(entry);
        state.ref(entry);
      },
    ],
  ];
  for (const [name] of sections) {
    const section = raw[name];
    if (section === undefined || section === null) continue;
    if (!isRecord(section)) return `"${name}" is not an object`;
    for (const [node, list] of Object.entries(section)) {
      if (!Array.isArray(list)) return `"${name}.${node}" is not an array`;
    }
  }
  for (const [name, add] of sections) {
    const section = raw[name];
    if (!isRecord(section)) continue;
    for (const [node, list] of Object.entries(section)) {
      for (const item of list as unknown[]) {
        const entry = state.entryFromWire(item);
        if (typeof entry === 'string') {
          logger.warn({ queue: name, node, err: entry }, 'dropping an invalid queued event');
          continue;
        }
        add(node, entry);
      }
    }
  }
  const gen = raw['journal_gen'];
  return typeof gen === 'number' && Number.isSafeInteger(gen) && gen >= 0 ? gen : 0;
}
