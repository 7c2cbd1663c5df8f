// Sysctl values by their /proc/sys path ('net/ipv4/conf/eth0/arp_ignore').
//
// The one place `check` runs a program. What /proc/sys/net shows is decided
// by the network namespace of the thread that opens the file, not by a path
// or a socket, so the files of another namespace can only be read from a
// thread inside it. The library has no such call (its addon joins a namespace
// only to create a socket), and Node cannot setns(2), so for --netns the read
// runs under nsenter(1), which joins the namespace and then execs grep. In
// the process's own namespace the files are read directly.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

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
  // file and skips the others (-s); exit 2 then only means some were missing.
  const args = [`--net=${netns}`, '--', 'grep', '-sH', '', ...keys.map((key) => `/proc/sys/${key}`)]
  let stdout: string
  try {
    ;({ stdout } = await promisify(execFile)('nsenter', args, { timeout: TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } }))
  } catch (error) {
    const failed = error as Error & { code?: number | string; stdout?: string; stderr?: string }
    // A string code is a failure to start it (ENOENT: util-linux missing); nsenter's own failures (EPERM joining) name it.
    if (typeof failed.code !== 'number') throw new Error(`cannot read sysctls: cannot run nsenter: ${failed.message}`)
    if (/nsenter/.test(failed.stderr ?? '') || failed.code > 2) throw new Error(failed.stderr?.trim() || `grep exited with ${failed.code}`)
    stdout = failed.stdout ?? ''
  }
  const values = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.startsWith('/proc/sys/')) values.set(line.slice('/proc/sys/'.length, colon), line.slice(colon + 1).trim())
  }
  return values
}
