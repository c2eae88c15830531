/**
 * Bundle files readBundleText / readBundleBytes served (checked UTF-8 bytes), kept by the index
 * entry they belong to, least recently served first, up to a byte budget: served again without
 * touching the disk until the entry is replaced, deleted or pushed out.
 */
import type { IndexEntry } from './memory-index.ts';

export class ServedTexts {
  private readonly texts = new Map<IndexEntry, Buffer>();
  private length = 0;

  constructor(private readonly budget: number) {}

  get(entry: IndexEntry): Buffer | undefined {
    const kept = this.texts.get(entry);
    if (kept === undefined) return undefined;
    this.texts.delete(entry);
    this.texts.set(entry, kept);
    return kept;
  }

  keep(entry: IndexEntry, text: Buffer): void {
    // One text may take at most an eighth of the budget, so a few large bundles cannot flush it.
    if (text.length > this.budget / 8) return;
    this.texts.set(entry, text);
    this.length += text.length;
    for (const [oldest, oldText] of this.texts) {
      if (this.length <= this.budget) break;
      this.texts.delete(oldest);
      this.length -= oldText.length;
    }
  }

  /** The entry left the index: its kept text can never be served again. */
  forget(entry: IndexEntry): void {
    const text = this.texts.get(entry);
    if (text === undefined) return;
    this.texts.delete(entry);
    this.length -= text.length;
  }

  clear(): void {
    this.texts.clear();
    this.length = 0;
  }
}
