// vcluster.yaml text -> options, with line and column on every issue.
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { isAlias, isMap, isScalar, LineCounter, parseAllDocuments, visit, type Alias, type Document, type Node, type Pair, type YAMLMap } from 'yaml'
import { ConfigError, type ConfigIssue } from './errors'
import { validateVclusterConfig, type IssueAt, type ParseOptions, type VclusterVipConfig } from './vcluster'
import { fileKind } from '../file-kind'

/**
 * The largest configuration accepted, in bytes (1 MiB). A vcluster.yaml is a
 * few kilobytes; without a cap a mistaken path (a log, an image, a disk) would
 * be read whole and parsed, and a 50 MB file took over a gigabyte.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024

const SIZE_EXPECTED = 'a vcluster.yaml of at most 1 MiB (they are kilobytes: is this the right file?)'

/**
 * Reads and validates a vcluster.yaml file.
 *
 * Only a regular file is read: a FIFO, device, socket or directory is refused
 * at once (the file is opened O_NONBLOCK, so a FIFO cannot block the open), as
 * is a file over {@link MAX_CONFIG_BYTES}, before any of it is read.
 *
 * @throws ConfigError for YAML syntax errors and invalid values (all of them,
 *   with line and column), or when the file cannot be read, is not a regular
 *   file or is too large
 */
export async function loadVclusterConfig(file: string, options: ParseOptions = {}): Promise<VclusterVipConfig> {
  return parseText(await readConfigFile(file), file, options)
}

async function readConfigFile(file: string): Promise<string> {
  const fail = (message: string, expected = 'a readable vcluster.yaml') => new ConfigError([{ path: '', message, expected }], file)
  let handle: FileHandle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (error) {
    throw fail(`cannot read the file: ${(error as Error).message}`)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw fail(`is ${fileKind(stats)}, not a regular file`, 'a vcluster.yaml file, not a FIFO, device, socket or directory')
    if (stats.size > MAX_CONFIG_BYTES) throw fail(sizeProblem('file', stats.size), SIZE_EXPECTED)
    // Read to the end, but never past the cap: the file may have grown since
    // the fstat, or report no size at all (procfs).
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, MAX_CONFIG_BYTES + 1 - total))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      chunks.push(chunk.subarray(0, bytesRead))
      total += bytesRead
      if (total > MAX_CONFIG_BYTES) throw fail(sizeProblem('file', total, 'at least '), SIZE_EXPECTED)
    }
    return Buffer.concat(chunks, total).toString('utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw fail(`cannot read the file: ${(error as Error).message}`)
  } finally {
    await handle.close()
  }
}

function sizeProblem(what: 'file' | 'text', bytes: number, qualifier = ''): string {
  return `the ${what} is ${qualifier}${bytes} bytes, over the limit of ${MAX_CONFIG_BYTES} bytes (1 MiB)`
}


/**
 * Validates vcluster.yaml text. YAML 1.2 with merge keys (`<<`) and anchors;
 * duplicate keys are errors. Empty documents (a lone `---`) are ignored; an
 * empty file is a configuration with kube-vip disabled; two or more non-empty
 * documents are an error, because which one is meant would be a guess.
 */
export function parseVclusterYaml(text: string, source?: string, options: ParseOptions = {}): VclusterVipConfig {
  // The cap of loadVclusterConfig, in UTF-8 bytes. (A file is checked before
  // decoding instead: invalid UTF-8 grows when decoded.)
  if (typeof text === 'string' && text.length > MAX_CONFIG_BYTES / 3) {
    const bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > MAX_CONFIG_BYTES) throw new ConfigError([{ path: '', message: sizeProblem('text', bytes), expected: SIZE_EXPECTED }], source)
  }
  return parseText(text, source, options)
}

function parseText(text: string, source: string | undefined, options: ParseOptions): VclusterVipConfig {
  const lineCounter = new LineCounter()
  // uniqueKeys: false, and duplicateKeys() below instead: yaml compares each
  // new key with every earlier one of its mapping, quadratic in the keys (40k
  // keys took 13 s).
  const parsed = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: false, prettyErrors: true })
  const documents: Document[] = Array.isArray(parsed) ? parsed : []

  const syntax: ConfigIssue[] = []
  for (const doc of documents) {
    for (const error of doc.errors) {
      const at = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0])
      syntax.push({ path: '', message: `YAML syntax error: ${firstLine(error.message)}`, line: at.line, column: at.col })
    }
    syntax.push(...duplicateKeys(doc, lineCounter))
  }
  if (syntax.length) {
    const position = (issue: ConfigIssue) => (issue.line ?? Infinity) * 1e6 + (issue.column ?? 0)
    throw new ConfigError(
      syntax.sort((a, b) => position(a) - position(b)),
      source,
    )
  }

  const nonEmpty = documents.filter((doc) => doc.contents !== null && !(isScalar(doc.contents) && doc.contents.value === null))
  if (nonEmpty.length > 1) {
    const second = lineCounter.linePos(nonEmpty[1].range?.[0] ?? 0)
    throw new ConfigError(
      [
        {
          path: '',
          message: `the file holds ${nonEmpty.length} YAML documents; vcluster.yaml is one`,
          expected: 'a single document: keep Kubernetes manifests such as a NetworkAttachmentDefinition in their own file',
          line: second.line,
          column: second.col,
        },
      ],
      source,
    )
  }
  const doc = nonEmpty[0]
  let input: unknown = {}
  if (doc) {
    try {
      input = doc.toJS({ maxAliasCount: 100 })
    } catch (error) {
      // Alias bombs and unresolved aliases surface here, not in doc.errors.
      throw new ConfigError([{ path: '', message: `YAML error: ${firstLine((error as Error).message)}` }], source)
    }
  }
  const { config, issues } = validateVclusterConfig(input, options)
  if (config) return config
  // In file order, as someone fixing the file reads it.
  const located = issues.map((issue) => locate(issue, doc, lineCounter))
  const position = (issue: ConfigIssue) => (issue.line ?? Infinity) * 1e6 + (issue.column ?? 0)
  throw new ConfigError(
    located.sort((a, b) => position(a) - position(b)),
    source,
  )
}

/**
 * Keys repeated in a mapping (block or flow), as yaml's uniqueKeys reports
 * them: scalar keys with the same value (=== after resolving, so `1` and
 * `0x1` collide but `1` and `"1"` do not), at the repeated key. One Set per
 * mapping: linear in the keys.
 */
function duplicateKeys(doc: Document, lineCounter: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>()
      for (const { key } of map.items) {
        if (!isScalar(key)) continue
        if (!seen.has(key.value)) {
          seen.add(key.value)
          continue
        }
        const { line, col } = lineCounter.linePos(key.range?.[0] ?? 0)
        issues.push({ path: '', message: 'YAML syntax error: Map keys must be unique', line, column: col })
      }
    },
  })
  return issues
}

/**
 * The first pair of each key, per mapping, and resolved aliases: built once
 * per document, so locating every issue is linear (a find per issue was
 * quadratic with thousands of unknown keys).
 */
interface LocateIndex {
  pairs: WeakMap<YAMLMap, Map<string, Pair>>
  aliases: WeakMap<Alias, unknown>
}
const locateIndexes = new WeakMap<Document, LocateIndex>()

function pairOf(index: LocateIndex, map: YAMLMap, segment: string): Pair | undefined {
  let pairs = index.pairs.get(map)
  if (!pairs) {
    pairs = new Map()
    for (const item of map.items as Pair[]) {
      const name = isScalar(item.key) ? String(item.key.value) : String(item.key)
      if (!pairs.has(name)) pairs.set(name, item)
    }
    index.pairs.set(map, pairs)
  }
  return pairs.get(segment)
}

/** Adds the line and column of the issue's key (or its deepest existing ancestor). */
function locate({ segments, ...issue }: IssueAt, doc: Document | undefined, lineCounter: LineCounter): ConfigIssue {
  if (!doc) return issue
  let index = locateIndexes.get(doc)
  if (!index) locateIndexes.set(doc, (index = { pairs: new WeakMap(), aliases: new WeakMap() }))
  let node: unknown = doc.contents
  let offset: number | undefined
  for (const segment of segments) {
    if (isAlias(node)) {
      const alias = node
      if (!index.aliases.has(alias)) index.aliases.set(alias, alias.resolve(doc))
      node = index.aliases.get(alias)
    }
    if (!isMap(node)) break
    const pair = pairOf(index, node, segment)
    if (!pair) break
    offset = (pair.key as Node | null)?.range?.[0] ?? offset
    node = pair.value
  }
  if (offset === undefined) return issue
  const { line, col } = lineCounter.linePos(offset)
  return { ...issue, line, column: col }
}

function firstLine(message: string): string {
  // yaml's pretty errors append " at line L, column C:" and a source excerpt.
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
}
