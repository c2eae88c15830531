/**
 * A FIFO on a growable ring buffer: push and shift are O(1), where Array#shift copies the whole
 * array (a 100,000-kobj queue spent seconds in it). Freed slots are cleared so that what was
 * taken can be collected.
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(initialCapacity = 16) {
    this.items = new Array<T | undefined>(Math.max(4, initialCapacity));
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow(this.size + 1);
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    if (this.size === 0) this.head = 0;
    return item;
  }

  /** Up to `n` oldest items, removed, oldest first. */
  shiftMany(n: number): T[] {
    const count = Math.max(0, Math.min(n, this.size));
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = this.shift() as T;
    return out;
  }

  /** Puts `list` in front of everything, in its order (list[0] becomes the oldest). */
  unshiftAll(list: readonly T[]): void {
    if (list.length === 0) return;
    if (this.size + list.length > this.items.length) this.grow(this.size + list.length);
    const cap = this.items.length;
    this.head = (this.head - list.length + cap) % cap;
    for (let i = 0; i < list.length; i++) this.items[(this.head + i) % cap] = list[i];
    this.size += list.length;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  toArray(): T[] {
    const out = new Array<T>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.items[(this.head + i) % this.items.length] as T;
    return out;
  }

  clear(): void {
    this.items = new Array<T | undefined>(this.items.length);
    this.head = 0;
    this.size = 0;
  }

  private grow(needed: number): void {
    let cap = this.items.length * 2;
    while (cap < needed) cap *= 2;
    const next = new Array<T | undefined>(cap);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
