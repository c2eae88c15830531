/**
 * A FIFO on a growable ring buffer: push and shift are O(1), where Array#shift copies the whole
 * array (a 100,000-kobj queue spent seconds in it). Freed slots are cleared so that what was
 * taken can be collected.
 */
export declare class Deque<T> {
    private items;
    private head;
    private size;
    constructor(initialCapacity?: number);
    get length(): number;
    push(item: T): void;
    /** The oldest item, removed; undefined when empty. */
    shift(): T | undefined;
    /** Up to `n` oldest items, removed, oldest first. */
    shiftMany(n: number): T[];
    /** Puts `list` in front of everything, in its order (list[0] becomes the oldest). */
    unshiftAll(list: readonly T[]): void;
    peek(): T | undefined;
    toArray(): T[];
    clear(): void;
    private grow;
}
