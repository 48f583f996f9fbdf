/** Why records were dropped: a closed set, so the notice stays short and the tally bounded. */
export const DROP_REASONS = ['queue full', 'retries exhausted', 'rejected', 'invalid body', 'left at close'] as const

/** One of DROP_REASONS. */
export type DropReason = (typeof DROP_REASONS)[number]

/** The counts told in one notice, to settle once that notice got through. */
export type DropCounts = ReadonlyMap<DropReason, number>

/** `1 record`, `37 records`: a count as every drop report and notice words it. */
export function records(count: number): string {
  return count === 1 ? '1 record' : `${count} records`
}

/**
 * Counts dropped records until a message saying so gets through (DESIGN.md: every drop is
 * itself logged with a count). A notice that fails to arrive is not settled, so the next
 * one tells its counts again, added to the new ones.
 */
export class DropTally {
  readonly #untold = new Map<DropReason, number>()
  readonly #totals = new Map<DropReason, number>()
  #total = 0

  /** Records dropped since the sink was made. */
  get total(): number {
    return this.#total
  }

  /** Records dropped and not yet told in a message that got through. */
  get untold(): number {
    let sum = 0
    for (const count of this.#untold.values()) sum += count
    return sum
  }

  add(reason: DropReason, count: number): void {
    if (count <= 0) return
    this.#untold.set(reason, (this.#untold.get(reason) ?? 0) + count)
    this.#totals.set(reason, (this.#totals.get(reason) ?? 0) + count)
    this.#total += count
  }

  /** Records dropped since the sink was made, by reason. */
  totals(): DropCounts {
    return new Map(this.#totals)
  }

  /** The counts to put in the next notice. */
  snapshot(): DropCounts {
    return new Map(this.#untold)
  }

  /** The notice carrying `counts` got through: those drops are told. */
  settle(counts: DropCounts): void {
    for (const [reason, count] of counts) {
      const left = (this.#untold.get(reason) ?? 0) - count
      if (left > 0) this.#untold.set(reason, left)
      else this.#untold.delete(reason)
    }
  }

  /** `… 37 records dropped (queue full)`, or `… 42 records dropped (37 queue full, 5 retries exhausted)`. */
  static describe(counts: DropCounts): string {
    let sum = 0
    for (const count of counts.values()) sum += count
    return `… ${records(sum)} dropped (${DropTally.reasons(counts)})`
  }

  /** `queue full`, or `37 queue full, 5 retries exhausted` when there are several reasons. */
  static reasons(counts: DropCounts): string {
    const present = DROP_REASONS.filter((reason) => (counts.get(reason) ?? 0) > 0)
    return present.length === 1 ? (present[0] as string) : present.map((reason) => `${counts.get(reason) ?? 0} ${reason}`).join(', ')
  }
}
