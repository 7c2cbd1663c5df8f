// A small seeded PRNG (mulberry32) so a chaos run is reproducible: every
// round draws from its own stream, derived from (seed, elector, round), so
// round K of a run can be replayed alone (`--round K`) with the same fault
// and the same parameters, whatever the rounds before it did.
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number
  /** Uniform in [min, max). */
  between(min: number, max: number): number
  pick<T>(items: readonly T[]): T
}

function mulberry32(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// FNV-1a over the parts: a stable 32-bit state per stream.
function hash(parts: Array<string | number>): number {
  let h = 0x811c9dc5
  for (const ch of parts.join('\u0000')) {
    h ^= ch.charCodeAt(0)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function randomStream(...parts: Array<string | number>): Random {
  const next = mulberry32(hash(parts))
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    pick: (items) => items[Math.floor(next() * items.length)],
  }
}
