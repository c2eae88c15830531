/**
 * Bundle files readBundleText / readBundleBytes served (checked UTF-8 bytes), kept by the index
 * entry they belong to, up to a byte budget: served again without touching the disk until the
 * entry is replaced, deleted or pushed out.
 *
 * The kept bytes hang on the entry itself, so a hit is one field read and one flag set: a Map
 * keyed by entry with a least-recently-used touch (delete + set) per hit cost ~0.7 µs per bundle
 * at 10k cached, the largest part of what fetch_bundles cost more at 10k than at 2k. Eviction is
 * second chance (CLOCK) over the keeping order: an entry served since it was last looked at is
 * moved to the back once instead of evicted, which approximates least recently served.
 */
import type { IndexEntry } from './memory-index.ts';

/** The fields ServedTexts keeps on an index entry (memory-index.ts's entries have them). */
export interface ServedSlot {
  /** The kept bytes, when ServedTexts holds them. */
  served?: Buffer | undefined;
  /** Served since the eviction sweep last passed it. */
  servedAgain?: boolean;
}

type Slot = IndexEntry & ServedSlot;

export class ServedTexts {
  /** Entries holding kept bytes, in keeping order (second chances move to the back). */
  private readonly order = new Set<Slot>();
  private length = 0;

  constructor(private readonly budget: number) {}

  get(entry: IndexEntry): Buffer | undefined {
    const slot = entry as Slot;
    const kept = slot.served;
    if (kept !== undefined) slot.servedAgain = true;
    return kept;
  }

  keep(entry: IndexEntry, text: Buffer): void {
    // One text may take at most an eighth of the budget, so a few large bundles cannot flush it.
    if (text.length > this.budget / 8) return;
    const slot = entry as Slot;
    if (slot.served !== undefined) this.forget(slot);
    slot.served = text;
    slot.servedAgain = false;
    this.order.add(slot);
    this.length += text.length;
    this.evict();
  }

  /** The entry left the index: its kept text can never be served again. */
  forget(entry: IndexEntry): void {
    const slot = entry as Slot;
    const text = slot.served;
    if (text === undefined) return;
    this.order.delete(slot);
    slot.served = undefined;
    this.length -= text.length;
  }

  clear(): void {
    for (const slot of this.order) slot.served = undefined;
    this.order.clear();
    this.length = 0;
  }

  private evict(): void {
    // Each pass gives every entry at most one second chance, so this ends.
    for (const slot of this.order) {
      if (this.length <= this.budget) return;
      this.order.delete(slot);
      if (slot.servedAgain === true) {
        slot.servedAgain = false;
        this.order.add(slot);
        continue;
      }
      this.length -= slot.served!.length;
      slot.served = undefined;
    }
  }
}
