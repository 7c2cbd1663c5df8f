// Loads an optional peer dependency on first use, so hosts that never build a
// Kubernetes or etcd elector need neither package installed.

import { pathToFileURL } from 'node:url'

// Under `module: commonjs` TypeScript rewrites `import()` into `require()`,
// which cannot load ESM-only packages (@kubernetes/client-node 1.x) on Node
// releases before 20.19. A Function-constructed import() survives compilation.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>

/**
 * Imports `name` (CommonJS or ESM) as resolved from this package, or throws an
 * Error that says which class needs it and how to install it.
 */
export async function loadOptionalPeer<T>(name: string, neededBy: string, range: string): Promise<T> {
  let specifier = name
  try {
    // Resolve from here rather than from the process's cwd, which is what a
    // bare specifier inside a Function-made import() would be relative to.
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
  return (await dynamicImport(specifier)) as T
}
