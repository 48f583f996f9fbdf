/** The median of a non-empty list of numbers; the mean of the middle two for an even count. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** A Markdown table; `align` holds 'l' or 'r' per column. */
export function table(headers, rows, align) {
  const rule = align.map((side) => (side === 'r' ? '---:' : ':---'))
  return [headers, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** `1234567.8` → `1,234,568`. */
export function integer(value) {
  return Math.round(value).toLocaleString('en-US')
}

/** A number with `digits` decimals: `fixed(0.8512, 2)` → `0.85`. */
export function fixed(value, digits) {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
