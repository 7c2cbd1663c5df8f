// Flag parsing on top of node:util parseArgs, with messages that name the
// subcommand and the flag, and suggest the flag that was probably meant.
import { parseArgs } from 'node:util'
import { closest } from '../config/suggest'

/** A mistake on the command line: printed with a usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    message: string,
    /** The subcommand whose help to point at, if any. */
    readonly command?: string,
  ) {
    super(message)
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean'
  short?: string
}

export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean
}

/**
 * Parses `args` against `spec`. Rejects unknown flags, positional arguments,
 * flags given twice, string flags without a value and boolean flags with one.
 */
export function parseFlags<S extends Record<string, FlagSpec>>(command: string, args: string[], spec: S): FlagValues<S> {
  const { tokens } = parseArgs({ args, options: spec, strict: false, allowPositionals: true, tokens: true })
  const values: Record<string, string | boolean> = {}
  const shortToLong = new Map(Object.entries(spec).flatMap(([long, s]) => (s.short ? [[s.short, long]] : [])))
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument ${JSON.stringify(token.value)} for '${command}'`, command)
    }
    if (token.kind === 'option-terminator') throw new UsageError(`'${command}' takes no arguments after --`, command)
    const name = shortToLong.get(token.name) ?? token.name
    const flag = spec[name]
    if (!flag) {
      const suggestion = closest(name, Object.keys(spec))
      throw new UsageError(`unknown option '${token.rawName}' for '${command}'${suggestion ? ` (did you mean '--${suggestion}'?)` : ''}`, command)
    }
    if (name in values) throw new UsageError(`option '--${name}' given more than once`, command)
    if (flag.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option '--${name}' takes no value`, command)
      values[name] = true
    } else {
      if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-') && token.value !== '-')) {
        throw new UsageError(`option '--${name}' needs a value`, command)
      }
      values[name] = token.value
    }
  }
  return values as FlagValues<S>
}
