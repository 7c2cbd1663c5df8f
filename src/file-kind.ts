// What a path that should be a regular file (a config) or a namespace file
// turned out to be, for error messages that say it plainly.
import type { Stats } from 'node:fs'

export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}
