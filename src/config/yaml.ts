// vcluster.yaml text -> options, with line and column on every issue.
import { readFile } from 'node:fs/promises'
import { isAlias, isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml'
import { ConfigError, type ConfigIssue } from './errors'
import { validateVclusterConfig, type IssueAt, type ParseOptions, type VclusterVipConfig } from './vcluster'

/**
 * Reads and validates a vcluster.yaml file.
 *
 * @throws ConfigError for YAML syntax errors and invalid values (all of them,
 *   with line and column), or when the file cannot be read
 */
export async function loadVclusterConfig(file: string, options: ParseOptions = {}): Promise<VclusterVipConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const err = error as NodeJS.ErrnoException
    throw new ConfigError([{ path: '', message: `cannot read the file: ${err.message}`, expected: 'a readable vcluster.yaml' }], file)
  }
  return parseVclusterYaml(text, file, options)
}

/**
 * Validates vcluster.yaml text. YAML 1.2 with merge keys (`<<`) and anchors;
 * duplicate keys are errors. Empty documents (a lone `---`) are ignored; an
 * empty file is a configuration with kube-vip disabled; two or more non-empty
 * documents are an error, because which one is meant would be a guess.
 */
export function parseVclusterYaml(text: string, source?: string, options: ParseOptions = {}): VclusterVipConfig {
  const lineCounter = new LineCounter()
  const parsed = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: true, prettyErrors: true })
  const documents: Document[] = Array.isArray(parsed) ? parsed : []

  const syntax: ConfigIssue[] = []
  for (const doc of documents) {
    for (const error of doc.errors) {
      const at = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0])
      syntax.push({ path: '', message: `YAML syntax error: ${firstLine(error.message)}`, line: at.line, column: at.col })
    }
  }
  if (syntax.length) throw new ConfigError(syntax, source)

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

/** Adds the line and column of the issue's key (or its deepest existing ancestor). */
function locate({ segments, ...issue }: IssueAt, doc: Document | undefined, lineCounter: LineCounter): ConfigIssue {
  if (!doc) return issue
  let node: unknown = doc.contents
  let offset: number | undefined
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(doc)
    if (!isMap(node)) break
    const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === segment)
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
