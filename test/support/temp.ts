// Temporary directories for tests (lock files, kubeconfigs, configs), removed
// when the test process exits. Not at the test's teardown: replicas and
// electors still using a lock file may outlive the teardown that made it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const made: string[] = []

/** A fresh directory under the system's temp dir, e.g. tempDir('vip-lock-'). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  if (made.length === 0) process.once('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })))
  made.push(dir)
  return dir
}
