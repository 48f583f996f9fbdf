/** Which records go when a bounded queue is full: the oldest (keep the latest news) or the newest (keep the start of the outage). */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest'

/** The accepted values of `overflow`. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest']

/**
 * A FIFO of byte buffers bounded by their total size. When a push would pass the bound,
 * the policy decides what is dropped; every drop is counted, and `takeDropped()` hands the
 * count to whoever reports it.
 */
export class ByteQueue {
  readonly maxBytes: number
  readonly policy: OverflowPolicy
  #items: Buffer[] = []
  #head = 0
  #bytes = 0
  #dropped = 0
  #droppedTotal = 0

  constructor(maxBytes: number, policy: OverflowPolicy) {
    this.maxBytes = maxBytes
    this.policy = policy
  }

  get length(): number {
    return this.#items.length - this.#head
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Every item dropped since the queue was made. */
  get droppedTotal(): number {
    return this.#droppedTotal
  }

  /** Items dropped and not yet reported. */
  get dropped(): number {
    return this.#dropped
  }

  /** Adds an item, dropping by the policy if the bound is reached; returns whether this item was kept. */
  push(item: Buffer): boolean {
    if (item.length > this.maxBytes) {
      this.#drop(1)
      return false
    }
    if (this.policy === 'drop-newest' && this.#bytes + item.length > this.maxBytes) {
      this.#drop(1)
      return false
    }
    while (this.#bytes + item.length > this.maxBytes) this.#drop(this.shift() === undefined ? 0 : 1)
    this.#items.push(item)
    this.#bytes += item.length
    return true
  }

  /** The oldest item, without removing it. */
  peek(): Buffer | undefined {
    return this.#items[this.#head]
  }

  /** Removes and returns the oldest item. */
  shift(): Buffer | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head] as Buffer
    this.#items[this.#head] = EMPTY
    this.#head++
    this.#bytes -= item.length
    // Compacts once the consumed part dominates, so shifting stays O(1) amortized.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Returns the count of drops not yet reported and starts counting again. */
  takeDropped(): number {
    const count = this.#dropped
    this.#dropped = 0
    return count
  }

  #drop(count: number): void {
    this.#dropped += count
    this.#droppedTotal += count
  }
}

const EMPTY = Buffer.alloc(0)
