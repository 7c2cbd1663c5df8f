// Sysctl values by their /proc/sys path ('net/ipv4/conf/eth0/arp_ignore').
//
// The one place `check` runs a program. What /proc/sys/net shows is decided
// by the network namespace of the thread that opens the file, not by a path
// or a socket, so the files of another namespace can only be read from a
// thread inside it. The library has no such call (its addon joins a namespace
// only to create a socket), and Node cannot setns(2), so for --netns the read
// runs under nsenter(1), which joins the namespace and then execs grep. In
// the process's own namespace the files are read directly.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'

const TIMEOUT_MS = 10_000

/** Keys whose files do not exist (or cannot be read) are absent from the result. */
export async function readSysctls(keys: string[], netns?: string): Promise<Map<string, string>> {
  return netns === undefined ? readHere(keys) : readInNamespace(keys, netns)
}

async function readHere(keys: string[]): Promise<Map<string, string>> {
  const values = new Map<string, string>()
  await Promise.all(
    keys.map(async (key) => {
      const text = await readFile(`/proc/sys/${key}`, 'utf8').catch(() => undefined)
      if (text !== undefined) values.set(key, text.trim())
    }),
  )
  return values
}

async function readInNamespace(keys: string[], netns: string): Promise<Map<string, string>> {
  // One process for all keys: grep -H prints "path:value" for each readable
  // file and skips the others (-s); exit 2 only means some were missing.
  const out = await execute('nsenter', [`--net=${netns}`, '--', 'grep', '-sH', '', ...keys.map((key) => `/proc/sys/${key}`)])
  if (out.spawnError) throw new Error(`cannot read sysctls: cannot run nsenter: ${out.spawnError.message}`)
  if (out.code !== 0 && /nsenter/.test(out.stderr)) throw new Error(out.stderr.trim())
  if (out.code !== 0 && out.code !== 1 && out.code !== 2) throw new Error(out.stderr.trim() || `grep exited with ${out.code}`)
  const values = new Map<string, string>()
  for (const line of out.stdout.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.startsWith('/proc/sys/')) values.set(line.slice('/proc/sys/'.length, colon), line.slice(colon + 1).trim())
  }
  return values
}

interface Output {
  code: number | null
  stdout: string
  stderr: string
  /** Set when the program could not be started (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException
}

function execute(command: string, args: string[]): Promise<Output> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr, spawnError: error }))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
