/**
 * A fixed-size queue that drops its oldest item when full. For a flight recorder the
 * newest records matter most: the one that describes the crash is the last one logged.
 */
export class RecordQueue<T> {
  readonly #items: (T | undefined)[]
  #head = 0
  #length = 0

  constructor(readonly capacity: number) {
    this.#items = new Array<T | undefined>(capacity)
  }

  get length(): number {
    return this.#length
  }

  /** The item `index` places from the front, or undefined past the end. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#length) return undefined
    return this.#items[(this.#head + index) % this.capacity]
  }

  /** Adds at the back; returns true when the oldest item had to be dropped to make room. */
  push(item: T): boolean {
    const full = this.#length === this.capacity
    if (full) this.removeFront(1)
    this.#items[(this.#head + this.#length) % this.capacity] = item
    this.#length++
    return full
  }

  /** Removes up to `count` items from the front. */
  removeFront(count: number): void {
    const removed = Math.min(count, this.#length)
    for (let i = 0; i < removed; i++) this.#items[(this.#head + i) % this.capacity] = undefined
    this.#head = (this.#head + removed) % this.capacity
    this.#length -= removed
  }

  /** Puts items back at the front, in order; returns how many of the oldest had to be dropped to stay within the capacity. */
  unshift(items: readonly T[]): number {
    if (items.length === 0) return 0
    const all = [...items, ...this.toArray()]
    const dropped = Math.max(0, all.length - this.capacity)
    this.removeFront(this.#length)
    this.#head = 0
    for (const item of all.slice(dropped)) this.push(item)
    return dropped
  }

  /** The items, front first. */
  toArray(): T[] {
    const out: T[] = []
    for (let i = 0; i < this.#length; i++) out.push(this.at(i) as T)
    return out
  }
}
