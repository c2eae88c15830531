/**
 * The in-memory index of the file cache: RID -> (file name, manifest), plus RIDs by type, so
 * exists/readManifest/listRids never touch the disk. It only holds entries; what an entry's
 * arrival or departure means to other parts (a verification to run, a kept text to forget) is
 * told to them through `IndexEvents`.
 */
import { RID, RIDType } from '../rid/index.ts';
import type { Manifest } from '../knowledge/index.ts';
import { cacheFileName } from './file-name.ts';

export interface IndexEntry {
  readonly rid: RID;
  readonly fileName: string;
  readonly type: string;
  /**
   * undefined: unverified, indexed from its file name only; the file has not been read yet and
   * may not hold a valid bundle (of this RID). Set in place once it has been read.
   */
  manifest: Manifest | undefined;
}

/**
 * The index's own entries: 100k of them are most of a large node's memory, so an entry holds no
 * copy of what its RID already says (its type) and no file name while that is the canonical
 * one, which is made on first use (a file read or delete) and then kept.
 */
class Entry implements IndexEntry {
  #fileName: string | undefined;
  /** ServedTexts' slot (served-texts.ts), set up here so every entry has one shape. */
  served: Buffer | undefined = undefined;
  servedAgain = false;
  constructor(
    readonly rid: RID,
    /** undefined: the canonical name of `rid` (cacheFileName). */
    fileName: string | undefined,
    public manifest: Manifest | undefined,
  ) {
    this.#fileName = fileName;
  }

  get fileName(): string {
    return (this.#fileName ??= cacheFileName(this.rid));
  }

  get type(): string {
    return this.rid.type.toString();
  }
}

/** A new index entry; `fileName` undefined means the canonical name of `rid`. */
export function indexEntry(rid: RID, fileName: string | undefined, manifest: Manifest | undefined): IndexEntry {
  return new Entry(rid, fileName, manifest);
}

export interface IndexEvents {
  /** `entry` is now the index entry of its RID (also when it was already). */
  added(entry: IndexEntry): void;
  /** `entry` left the index (removed, or replaced by another entry). */
  gone(entry: IndexEntry): void;
}

export function ridKey(rid: RID | string): string {
  return RID.of(rid).toString();
}

export class KnowledgeIndex {
  private readonly entries = new Map<string, IndexEntry>();
  private readonly byType = new Map<string, Set<string>>();
  private generationCount = 0;

  constructor(private readonly events: IndexEvents) {}

  get size(): number {
    return this.entries.size;
  }

  /** Moves on every change of what the index answers (see KnowledgeStore.generation). */
  get generation(): number {
    return this.generationCount;
  }

  /** An entry changed in place (its manifest was filled in). */
  touch(): void {
    this.generationCount++;
  }

  get(key: string): IndexEntry | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<IndexEntry> {
    return this.entries.values();
  }

  put(entry: IndexEntry): void {
    this.generationCount++;
    const key = entry.rid.toString();
    const previous = this.entries.get(key);
    if (previous !== undefined && previous !== entry) this.events.gone(previous);
    if (previous !== undefined && previous.type !== entry.type) this.byType.get(previous.type)?.delete(key);
    this.entries.set(key, entry);
    this.events.added(entry);
    let keys = this.byType.get(entry.type);
    if (keys === undefined) {
      keys = new Set();
      this.byType.set(entry.type, keys);
    }
    keys.add(key);
  }

  remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.generationCount++;
    this.entries.delete(key);
    this.events.gone(entry);
    const keys = this.byType.get(entry.type);
    keys?.delete(key);
    if (keys?.size === 0) this.byType.delete(entry.type);
  }

  /** Only if no write replaced the entry meanwhile (its file is then fine). */
  removeIfCurrent(key: string, entry: IndexEntry): void {
    if (this.entries.get(key) === entry) this.remove(key);
  }

  /** Forgets every entry, without telling anyone (the caller resets the other parts itself). */
  clear(): void {
    this.entries.clear();
    this.byType.clear();
    this.generationCount++;
  }

  listRids(ridTypes?: Iterable<RIDType | string>): RID[] {
    const types = ridTypes === undefined ? [] : [...ridTypes].map((t) => RIDType.of(t).toString());
    if (types.length === 0) return [...this.entries.values()].map((e) => e.rid);
    const out: RID[] = [];
    for (const type of new Set(types)) {
      for (const key of this.byType.get(type) ?? []) {
        const entry = this.entries.get(key);
        if (entry !== undefined) out.push(entry.rid);
      }
    }
    return out;
  }
}
