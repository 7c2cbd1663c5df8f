// Classic BPF programs for the capture socket (SO_ATTACH_FILTER), built as
// plain data so that tests and the fuzzer (native/fuzz/frames_fuzz.cc runs
// them through a reference interpreter) reach them without a socket.
#pragma once
#include <linux/filter.h>
#include <stddef.h>

#include <vector>

#include "frames.h"

namespace vip {
namespace capture_filter {

// What an accepting program returns: the whole frame (up to 256 KiB).
constexpr uint32_t kAccept = 0x40000;

// Most addresses per family an address program holds; with more, the caller
// falls back to NeighbourProgram() and filters in user space.
constexpr size_t kMaxAddressesPerFamily = 16;

// ARP, and ICMPv6 neighbour solicitations/advertisements (an IPv6 header
// directly followed by ICMPv6); everything else is dropped. The program of
// `tcpdump -dd 'arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))'`.
std::vector<sock_filter> NeighbourProgram();

// Only the frames that can show a host claiming one of the addresses:
//  - ARP (request or reply) whose sender protocol address is one of `v4`;
//  - neighbour advertisements whose target is one of `v6`;
//  - neighbour solicitations whose IPv6 source is one of `v6`;
// and, of those, only untagged or priority-tagged ones: a frame whose 802.1Q
// tag the kernel moved to metadata with a VLAN id other than 0 belongs to
// another VLAN (a trunk's untagged interface sees them). Empty when there are
// more than kMaxAddressesPerFamily addresses of a family, or none at all.
std::vector<sock_filter> AddressProgram(const std::vector<frames::Ipv4>& v4, const std::vector<frames::Ipv6>& v6);

}  // namespace capture_filter
}  // namespace vip
