// `check` prints fix commands for an operator to paste into a root shell. An
// interface name may hold any byte but "/", ":" and whitespace ("$(…)", ";",
// quotes and backticks are all valid), and a namespace path may hold spaces, so
// every word built from them is quoted: a pasted fix then does exactly what it
// says, never something the name smuggled in.

/** Words made only of these need no quoting in a POSIX shell. */
const SAFE = /^[A-Za-z0-9_./=:@%+,-]+$/

/** Quotes one word for a POSIX shell (single quotes; an embedded ' becomes '\''). */
export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** Joins words into one command line, each quoted as needed. */
export function shellCommand(...words: string[]): string {
  return words.map(shellQuote).join(' ')
}
