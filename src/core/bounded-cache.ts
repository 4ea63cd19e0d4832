/**
 * A Map that holds at most `maxEntries`, dropping the oldest entry first. For memos of checks
 * whose answer for a given input never changes in this process (a signature under fixed keys):
 * the bound keeps a flood of distinct inputs from growing memory.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}
