// The namespace lab lives in src/lab (the `lab` command uses it too); tests
// import it from here, with the tap-specific skip policy.
import { canUseNamespaces } from '../../src/lab/namespaces'

export * from '../../src/lab/namespaces'

/**
 * tap options for namespace tests: skip with a reason when not root, but in CI
 * (CI=true) a skip would hide a broken setup, so fail instead.
 */
export function namespaceTestOptions(): { skip?: string } {
  if (canUseNamespaces()) return {}
  if (process.env.CI === 'true') throw new Error('namespace tests need root in CI (CI=true): refusing to skip')
  return { skip: 'needs root (network namespaces); run as root to include these tests' }
}
