// The one rule for interface names, shared by the network facade
// (validateLinkName), the configuration (kubeVip.interface) and the
// VipAnnouncer options, so none accepts a name another refuses.

/** Linux IFNAMSIZ (16) less the terminating NUL. */
export const MAX_LINK_NAME_BYTES = 15

/**
 * Why `name` cannot be a Linux interface name, as a phrase to follow the
 * quoted name ("is 17 bytes long; ..."), or undefined. Linux's
 * dev_valid_name() refuses '/', ':' and whitespace; '%' too, because the
 * kernel reads it as a template when a link is created, so no existing link
 * has it in its name.
 */
export function linkNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty'
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > MAX_LINK_NAME_BYTES) return `is ${bytes} bytes long; Linux allows at most ${MAX_LINK_NAME_BYTES}`
  if (name === '.' || name === '..') return 'is not allowed as an interface name'
  const bad = /[/:%\s\0]/.exec(name)
  if (bad) return `contains ${describeChar(bad[0])}, which Linux rejects in interface names`
  return undefined
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space'
  if (char === '\0') return 'a NUL byte'
  if (/\s/.test(char)) return `whitespace (U+${char.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`
  return `"${char}"`
}
