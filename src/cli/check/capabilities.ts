// The process's effective capabilities, from /proc/self/status. These belong to
// the process, not to a network namespace, so they are not part of HostProbe.
import { readFile } from 'node:fs/promises'

/** Bit numbers from linux/capability.h. */
export const CAPABILITIES = {
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_SYS_ADMIN: 21,
} as const
export type CapabilityName = keyof typeof CAPABILITIES

/** Parses the CapEff line of a /proc/PID/status text. */
export function parseEffectiveCapabilities(status: string): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(status)
  if (!match) throw new Error('no CapEff line in /proc/self/status')
  return BigInt(`0x${match[1]}`)
}

export function hasCapability(effective: bigint, name: CapabilityName): boolean {
  return ((effective >> BigInt(CAPABILITIES[name])) & 1n) === 1n
}

export async function readEffectiveCapabilities(statusFile = '/proc/self/status'): Promise<bigint> {
  return parseEffectiveCapabilities(await readFile(statusFile, 'utf8'))
}
