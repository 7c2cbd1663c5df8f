// Finds and loads the native part (the addon and the guard executable) on
// first use. Each src/net module declares the typed view of the part of the
// addon it wraps (e.g. `addon as NetlinkAddon`), so the untyped surface stays
// in one place; reading a property of `addon` is what loads it, so importing
// the package (config loading, `--help`, `check`'s config checks) works on a
// host where the native part is missing.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

const root = path.join(__dirname, '..', '..')
const ADDON = 'vip_announcer.node'
const GUARD = 'vip_guard'
const FIX = 'npm rebuild vip-announcer'

/** Where the addon and the guard were loaded from. */
export interface NativeBuild {
  /** The directory holding vip_announcer.node and vip_guard. */
  dir: string
  /** 'env': VIP_ANNOUNCER_BUILD_DIR; 'build': a source build (build/Release); 'prebuild': prebuilds/<platform>-<arch>. */
  source: 'env' | 'build' | 'prebuild'
  addon: Record<string, any>
  /** Path of the guard executable that belongs with this addon. */
  guardPath: string
}

/**
 * Thrown on first use of the native part when no usable build exists. The
 * message names what is missing, why, and the command that fixes it.
 */
export class NativeUnavailableError extends Error {
  override readonly name = 'NativeUnavailableError'
  readonly code = 'ERR_VIP_NATIVE_UNAVAILABLE'
  constructor(
    /** What is missing and why, without the fix. */
    readonly summary: string,
    /** The command (or step) that fixes it. */
    readonly fix: string,
    /** Each place looked in, and why it was not used. */
    readonly tried: Array<{ dir: string; reason: string }>,
  ) {
    super(`${summary}: ${fix}`)
  }
}

interface Candidate {
  dir: string
  source: NativeBuild['source']
}

/** The prebuild directory for this process's platform and arch (it may not exist). */
export function prebuildDir(platform = process.platform, arch = process.arch): string {
  return path.join(root, 'prebuilds', `${platform}-${arch}`)
}

/**
 * Where to look, in order. VIP_ANNOUNCER_BUILD_DIR alone when set: it names
 * another build of the same two files (the sanitized developer build), and
 * silently falling back to a different build would defeat its purpose. Else a
 * source build first (a clone, or an install that could not use the
 * prebuild), then the prebuild shipped in the package.
 */
function candidates(): Candidate[] {
  const env = process.env.VIP_ANNOUNCER_BUILD_DIR
  if (env) return [{ dir: path.resolve(env), source: 'env' }]
  return [
    { dir: path.join(root, 'build', 'Release'), source: 'build' },
    { dir: prebuildDir(), source: 'prebuild' },
  ]
}

/** glibc's version when the process runs on glibc, undefined on musl and others. */
function glibcRuntime(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
  return header?.glibcVersionRuntime
}

function olderVersion(have: string, need: string): boolean {
  const a = have.split('.').map(Number)
  const b = need.split('.').map(Number)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0)
  }
  return false
}

/** Why a prebuild cannot serve this process, before dlopen tries (and maybe half-succeeds on musl). */
function prebuildMismatch(dir: string): string | undefined {
  let manifest: { libc?: string; glibc?: string }
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'prebuild.json'), 'utf8'))
  } catch {
    return undefined
  }
  if (manifest.libc !== 'glibc') return undefined
  const glibc = glibcRuntime()
  if (glibc === undefined) return 'it is built for glibc and this system has another C library (musl?)'
  if (manifest.glibc && olderVersion(glibc, manifest.glibc)) return `it needs glibc >= ${manifest.glibc}, this system has ${glibc}`
  return undefined
}

function tryLoad(candidate: Candidate): NativeBuild | string {
  const { dir } = candidate
  if (!existsSync(dir)) {
    if (candidate.source === 'prebuild') return `no prebuild for ${process.platform}-${process.arch} in this package`
    return candidate.source === 'build' ? 'not built from source' : 'the directory does not exist'
  }
  const missing = [ADDON, GUARD].filter((f) => !existsSync(path.join(dir, f)))
  if (missing.length) return `${missing.join(' and ')} missing`
  if (candidate.source === 'prebuild') {
    const mismatch = prebuildMismatch(dir)
    if (mismatch) return mismatch
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(path.join(dir, ADDON)) as Record<string, any>
    return { ...candidate, addon, guardPath: path.join(dir, GUARD) }
  } catch (error) {
    return `${ADDON} does not load: ${(error as Error).message.split('\n')[0]}`
  }
}

function unavailable(tried: Array<{ dir: string; reason: string }>): NativeUnavailableError {
  const shown = (dir: string) => {
    const relative = path.relative(process.cwd(), dir)
    return relative && !relative.startsWith('..') ? relative : dir
  }
  const where = tried.map((t) => `${shown(t.dir)}: ${t.reason}`).join('; ')
  const platform = `${process.platform}-${process.arch}, Node ${process.version}`
  const fix = process.env.VIP_ANNOUNCER_BUILD_DIR
    ? 'build it there (cmake-js developer harness) or unset VIP_ANNOUNCER_BUILD_DIR'
    : `run \`${FIX}\` in the project that installed it (builds from source: needs g++, make and python3; ` +
      'prebuilt for linux-x64 and linux-arm64 with glibc >= 2.34)'
  return new NativeUnavailableError(`vip-announcer: the native part (${ADDON} and ${GUARD}) is not available for ${platform} (${where})`, fix, tried)
}

let loaded: NativeBuild | undefined

/** Finds and loads the native part once; throws NativeUnavailableError when none can be used. */
export function loadNative(): NativeBuild {
  if (loaded) return loaded
  const tried: Array<{ dir: string; reason: string }> = []
  for (const candidate of candidates()) {
    const result = tryLoad(candidate)
    if (typeof result !== 'string') return (loaded = result)
    tried.push({ dir: candidate.dir, reason: result })
  }
  throw unavailable(tried)
}

/** The addon's exports; the first property read loads it (and may throw NativeUnavailableError). */
export const addon: Record<string, any> = new Proxy(
  {},
  {
    get: (_target, key) => loadNative().addon[key as string],
    has: (_target, key) => key in loadNative().addon,
  },
)
