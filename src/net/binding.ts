// Loads the compiled addon once. Each src/net module declares the typed view of
// the part of the addon it wraps (e.g. `addon as NetlinkAddon`), so the untyped
// surface stays in one place.
import path from 'node:path'

const root = path.join(__dirname, '..', '..')

/**
 * build/Release holds both the addon and the guard executable (binding.gyp).
 * VIP_ANNOUNCER_BUILD_DIR points at another build of the same two files: the
 * cmake-js developer harness uses it to run the suite against a sanitized build.
 */
export const buildDir = process.env.VIP_ANNOUNCER_BUILD_DIR
  ? path.resolve(process.env.VIP_ANNOUNCER_BUILD_DIR)
  : path.join(root, 'build', 'Release')

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addon: Record<string, any> = require(path.join(buildDir, 'vip_announcer.node'))

/** Path of the guard executable built next to the addon. */
export const guardPath = path.join(buildDir, 'vip_guard')
