// Help texts. Kept next to each other so they stay consistent; docs/cli.md
// quotes them. The command list of the main help comes from the commands'
// own summaries.

/** `vip-announcer --help`. */
export function mainHelp(commands: ReadonlyArray<{ name: string; summary: string }>): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  const list = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')
  return `Usage: vip-announcer <command> [options]

Keeps a virtual IP on exactly one replica (the leader) and announces it with
gratuitous ARP / unsolicited neighbour advertisements. Reads the kube-vip
settings of a vcluster.yaml (controlPlane.endpoint and
controlPlane.advanced.kubeVip).

Commands:
${list}

Options:
  -h, --help     Show help (also: vip-announcer <command> --help)
      --version  Print the version

Exit codes: 0 success, 1 failure (a failed check, an invalid config, a runtime
error), 2 usage error, 130 check or lab interrupted (SIGINT, SIGTERM); run
stops cleanly on either and exits 0. A second signal ends the process at once.
`
}

export const RUN_HELP = `Usage: vip-announcer run --config FILE [options]

Campaigns for leadership; while leader, adds the VIP of controlPlane.endpoint
to controlPlane.advanced.kubeVip.interface, installs policy routing through the
gateway and announces the VIP. Exits 0 at once when kube-vip is disabled.

Options:
  -c, --config FILE     vcluster.yaml to read (required)
      --elector SPEC    Leader election (default: kubernetes):
                          static                       always leader (one replica only)
                          file:PATH                    flock on a shared lock file
                          kubernetes                   a Lease in the pod's namespace
                          kubernetes:NAMESPACE/NAME    a named Lease
                          etcd:URL[,URL...]            an etcd lease, e.g.
                                                       etcd:http://192.0.2.5:2379
      --netns PATH      Work in this network namespace (a path, or a NAME
                        under /run/netns)
      --identity ID     Candidate identity (default: the host name)
      --json            Log one JSON object per line (default: text lines)
      --conflict-policy yield|defend
                        When another host answers for the VIP while this
                        replica leads: yield (default) gives the VIP up and
                        logs the conflict; defend keeps it and announces
                        again, at most once per 10 s (RFC 5227)
      --probe-interval-ms N
                        Probe for other holders of the VIP every N ms while
                        leader (ARP probe / DAD solicitation; default 500,
                        0 to 60000; 0 = only watch passively)
  -h, --help            Show this help

Logs one line per state change (leader, follower, fenced, restored, link).
SIGTERM or SIGINT: removes the VIP, rule and routes, releases leadership, exits 0.
`

export const CHECK_HELP = `Usage: vip-announcer check --config FILE [--netns PATH] [--json]

Preflight report, one line per check (PASS, WARN or FAIL) with the fix:
  config         the kube-vip settings in vcluster.yaml (every problem listed)
  netns          the --netns path is a network namespace
  capabilities   CAP_NET_ADMIN and CAP_NET_RAW (and CAP_SYS_ADMIN with
                 --netns) are effective
  interface      exists, is up, has carrier, is Ethernet
  addresses      whether the VIP is already configured on this host
  packet-socket  an AF_PACKET socket can be opened on the interface
  vip-free       no other host answers ARP / ND for the VIP
  sysctl ...     arp_ignore, arp_announce, rp_filter, arp_accept (IPv4);
                 disable_ipv6, accept_dad (IPv6)
  gateway        the gateway answers on the interface

Options:
  -c, --config FILE   vcluster.yaml to read (required)
      --netns PATH    Check inside this network namespace (a path, or a NAME
                      under /run/netns)
      --json          Print the report as JSON
  -h, --help          Show this help

Exit codes: 0 no FAIL (also when kube-vip is disabled), 1 at least one FAIL,
2 usage error.
`

export const LAB_HELP = `Usage: vip-announcer lab [--keep] [--json]

Builds the reference page's Multus topology from network namespaces (needs
root): a bridge br-private, three control-plane replicas with net1 on it, a
router owning the gateway 192.0.2.1/24, a worker on the bridge and one behind
the router. Runs \`vip-announcer run\` in each replica with a file lock, shows
who holds 192.0.2.100, kills the leader with SIGKILL and prints a timeline and
a table: takeover time, frames the worker saw, its neighbour entry and a TCP
probe through the VIP before and after. Removes everything afterwards, also
on Ctrl-C or a failure (a second Ctrl-C exits at once and can leave
namespaces behind: ip netns list). Takes about 10 seconds.

Options:
      --keep   Leave the namespaces in place afterwards (delete them with
               ip netns del)
      --json   Print the results as JSON
  -h, --help   Show this help
`

/** What `vip-announcer --help` lists for each command, and what `NAME --help` prints. */
export const RUN_TEXT = { name: 'run', summary: 'Hold and announce the VIP while this replica is leader', help: RUN_HELP } as const
export const CHECK_TEXT = { name: 'check', summary: 'Preflight: validate the config and the host, print what to fix', help: CHECK_HELP } as const
export const LAB_TEXT = { name: 'lab', summary: 'Demonstrate a failover in throw-away network namespaces (root)', help: LAB_HELP } as const
