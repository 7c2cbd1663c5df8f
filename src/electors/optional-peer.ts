// Loads an optional peer dependency on first use, so hosts that never build a
// Kubernetes or etcd elector need neither package installed.

import { pathToFileURL } from 'node:url'

// The package compiles with `module: node16`, which keeps `import()` as it is
// in CommonJS output: a real dynamic import, which loads ESM-only packages
// (@kubernetes/client-node 1.x and 2.x) on every Node >= 20, and needs no code
// generation from strings (node --disallow-code-generation-from-strings).

/**
 * Imports `name` (CommonJS or ESM) as resolved from this package, or throws an
 * Error that says which class needs it and how to install it.
 */
export async function loadOptionalPeer<T>(name: string, neededBy: string, range: string): Promise<T> {
  let specifier = name
  try {
    // Resolved from this package, so a missing peer is reported as such
    // (below) rather than as a bare import() failure.
    specifier = pathToFileURL(require.resolve(name)).href
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'MODULE_NOT_FOUND') {
      throw new Error(
        `${neededBy} needs the optional peer dependency ${name} (${range}), which is not installed: ` +
          `run \`npm install ${name}@"${range}"\``,
        { cause: error },
      )
    }
    // ERR_PACKAGE_PATH_NOT_EXPORTED and the like: let import() resolve the bare name.
  }
  return (await import(specifier)) as T
}
