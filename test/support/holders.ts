// How many hosts had the VIP at the same instant, from address notifications
// of several namespaces timestamped on one clock. A lifetime refresh (address
// replace) notifies RTM_NEWADDR again for an address already there, so each
// host counts once while it holds, whatever number of 'add' events it shows.
export interface HolderEvent<H> {
  host: H
  action: string
  at: number
}

export function mostHoldersAtOnce<H>(events: Array<HolderEvent<H>>): number {
  const holding = new Set<H>()
  let most = 0
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.action === 'add') holding.add(e.host)
    else holding.delete(e.host)
    most = Math.max(most, holding.size)
  }
  return most
}
