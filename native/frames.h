// Ethernet frames that announce or look for an address: gratuitous ARP, ARP
// probes, IPv6 neighbour advertisements and solicitations, and a parser that
// classifies received frames. Pure byte layout, no Node types, so the builders
// and the parser can be unit-tested, fuzzed and run under sanitizers.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <array>
#include <vector>

namespace vip {
namespace frames {

using Mac = std::array<uint8_t, 6>;
using Ipv4 = std::array<uint8_t, 4>;
using Ipv6 = std::array<uint8_t, 16>;

// Ethernet frames shorter than this (without the FCS the NIC appends) are runts;
// every builder pads to it.
constexpr size_t kMinFrameLength = 60;

constexpr uint16_t kEthertypeArp = 0x0806;
constexpr uint16_t kEthertypeIpv6 = 0x86dd;
constexpr uint16_t kEthertypeVlan = 0x8100;
constexpr uint8_t kIcmpv6NeighbourSolicitation = 135;
constexpr uint8_t kIcmpv6NeighbourAdvertisement = 136;

enum class ArpOperation : uint16_t { kRequest = 1, kReply = 2 };

// Gratuitous ARP for `ip` owned by `mac`, broadcast. Request: target MAC zero,
// target IP = sender IP. Reply: target MAC = sender MAC, target IP = sender IP.
// Linux (and most hosts) treat sender IP == target IP as gratuitous and update
// an existing neighbour entry at once.
std::vector<uint8_t> GratuitousArp(ArpOperation operation, const Mac& mac, const Ipv4& ip);

// RFC 5227 ARP probe asking who has `ip`: sender IP 0.0.0.0 so that no
// receiver learns anything from it, target MAC zero, broadcast.
std::vector<uint8_t> ArpProbe(const Mac& mac, const Ipv4& ip);

// Unsolicited neighbour advertisement (RFC 4861 7.2.6) for `ip` owned by
// `mac`: to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255, Override set,
// Solicited and Router clear, with a target link-layer address option. The IPv6
// source is the target address itself: 7.2.6 allows it, the Linux kernel does
// the same for addresses it owns (ndisc_send_na), and it spares us looking up
// the interface's link-local address, which may be missing or still tentative.
std::vector<uint8_t> NeighbourAdvertisement(const Mac& mac, const Ipv6& ip);

// Duplicate-address-detection style neighbour solicitation for `ip` (RFC 4862
// 5.4.2): source ::, destination the solicited-node multicast group of `ip`, no
// source link-layer option (forbidden with an unspecified source). A node that
// owns `ip` defends it with a neighbour advertisement to ff02::1; this is the
// IPv6 counterpart of the ARP probe.
std::vector<uint8_t> DadNeighbourSolicitation(const Mac& mac, const Ipv6& ip);

// The Internet checksum of an ICMPv6 message over the IPv6 pseudo-header
// (RFC 8200 8.1). `icmp` must have its checksum field zeroed.
uint16_t Icmpv6Checksum(const Ipv6& source, const Ipv6& destination, const uint8_t* icmp,
                        size_t length);

enum class FrameKind { kOther, kArpRequest, kArpReply, kNeighbourSolicitation, kNeighbourAdvertisement };

// What a received frame says. Fields that do not apply to `kind` stay zero.
struct ParsedFrame {
  FrameKind kind = FrameKind::kOther;
  bool has_ethernet = false;  // false: shorter than an Ethernet header
  Mac destination{};
  Mac source{};
  uint16_t ethertype = 0;     // after an 802.1Q tag, if there was one
  uint16_t vlan = 0;          // 802.1Q VLAN id, 0 without a tag
  // ARP
  Mac sender_mac{};
  Ipv4 sender_ip{};
  Mac target_mac{};
  Ipv4 target_ip{};
  // Neighbour discovery
  Ipv6 ip_source{};
  Ipv6 ip_destination{};
  uint8_t hop_limit = 0;
  Ipv6 target{};
  bool router = false;
  bool solicited = false;
  bool override_flag = false;
  bool has_link_layer_option = false;  // NA: target link-layer address; NS: source
  // Every option has a length > 0 and together they fill the message exactly
  // (RFC 4861 4.6 / 7.1.1; Linux drops the message otherwise).
  bool options_valid = false;
  Mac link_layer_address{};
  bool checksum_valid = false;
};

// Classifies `length` bytes of an Ethernet frame (as an AF_PACKET SOCK_RAW
// socket delivers it). Never reads outside the buffer; anything malformed or
// unrelated is kOther with whatever header fields could be read.
ParsedFrame Parse(const uint8_t* data, size_t length);

}  // namespace frames
}  // namespace vip
