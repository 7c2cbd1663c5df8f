// The frame builders and the parser (native/frames.cc): exact bytes of every
// announcement and probe against the RFC layouts, the ICMPv6 checksum against
// an independent RFC 1071 sum, builder -> parser round trips, and what the
// parser makes of truncated, tagged and corrupted frames.
#include <string.h>

#include <string>
#include <vector>

#include "../frames.h"
#include "test.h"

using namespace vip::frames;
using Bytes = std::vector<uint8_t>;

namespace {

const Mac kMac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
const Ipv4 kV4 = {192, 0, 2, 100};
const Ipv6 kV6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xef};
const Ipv6 kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// Byte by byte: GCC 12 at -O3 reports a false -Wstringop-overflow for
// vector::insert of small ranges.
template <size_t N>
void Put(Bytes& out, const std::array<uint8_t, N>& a) {
  for (uint8_t byte : a) out.push_back(byte);
}
void Put(Bytes& out, std::initializer_list<uint8_t> bytes) {
  for (uint8_t byte : bytes) out.push_back(byte);
}

// RFC 1071 over the RFC 8200 8.1 pseudo-header, laid out as bytes here rather
// than summed field by field as frames.cc does.
uint16_t ReferenceChecksum(const Ipv6& source, const Ipv6& destination, const Bytes& icmp) {
  Bytes data;
  Put(data, source);
  Put(data, destination);
  const uint32_t length = static_cast<uint32_t>(icmp.size());
  Put(data, {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
             static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0, 0, 0, 58});
  data.insert(data.end(), icmp.begin(), icmp.end());
  if (data.size() % 2) data.push_back(0);
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += (data[i] << 8) | data[i + 1];
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

Bytes ArpFrame(uint16_t operation, const Mac& sender_mac, const Ipv4& sender_ip, const Mac& target_mac,
               const Ipv4& target_ip) {
  Bytes f;
  Put(f, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  Put(f, sender_mac);
  Put(f, {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, static_cast<uint8_t>(operation)});
  Put(f, sender_mac);
  Put(f, sender_ip);
  Put(f, target_mac);
  Put(f, target_ip);
  f.resize(60, 0);
  return f;
}

Bytes Slice(const Bytes& bytes, size_t from, size_t to) { return Bytes(bytes.begin() + from, bytes.begin() + to); }

ParsedFrame ParseBytes(const Bytes& frame) {
  // An exactly sized heap copy, so a sanitized build sees any read past the end.
  Bytes copy(frame);
  return Parse(copy.data(), copy.size());
}

}  // namespace

TEST(GratuitousArpRequestBytes) {
  CHECK_EQ(GratuitousArp(ArpOperation::kRequest, kMac, kV4), ArpFrame(1, kMac, kV4, Mac{}, kV4));
}

TEST(GratuitousArpReplyBytes) {
  CHECK_EQ(GratuitousArp(ArpOperation::kReply, kMac, kV4), ArpFrame(2, kMac, kV4, kMac, kV4));
}

TEST(ArpProbeBytes) {
  // RFC 5227: sender IP all zero, target MAC zero, broadcast.
  CHECK_EQ(ArpProbe(kMac, kV4), ArpFrame(1, kMac, Ipv4{}, Mac{}, kV4));
}

TEST(NeighbourAdvertisementBytes) {
  const Bytes frame = NeighbourAdvertisement(kMac, kV6);
  REQUIRE(frame.size() == 14 + 40 + 32);
  Bytes header;
  Put(header, {0x33, 0x33, 0, 0, 0, 1});
  Put(header, kMac);
  Put(header, {0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255});
  Put(header, kV6);  // the source is the target address itself (RFC 4861 7.2.6)
  Put(header, kAllNodes);
  CHECK_EQ(Slice(frame, 0, 54), header);
  Bytes icmp = Slice(frame, 54, frame.size());
  CHECK_EQ(icmp[0], 136);
  CHECK_EQ(icmp[1], 0);
  CHECK_EQ(icmp[4], 0x20);  // Override; Router and Solicited clear
  CHECK_EQ(Slice(icmp, 5, 8), Bytes({0, 0, 0}));
  Bytes target;
  Put(target, kV6);
  CHECK_EQ(Slice(icmp, 8, 24), target);
  Bytes option = {2, 1};  // target link-layer address, one 8-byte unit
  Put(option, kMac);
  CHECK_EQ(Slice(icmp, 24, 32), option);
  const uint16_t sent = static_cast<uint16_t>((icmp[2] << 8) | icmp[3]);
  icmp[2] = icmp[3] = 0;
  CHECK_EQ(sent, ReferenceChecksum(kV6, kAllNodes, icmp));
}

TEST(DadSolicitationBytes) {
  const Bytes frame = DadNeighbourSolicitation(kMac, kV6);
  REQUIRE(frame.size() == 14 + 40 + 24);
  const Ipv6 group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xab, 0xcd, 0xef};
  Bytes header;
  Put(header, {0x33, 0x33, 0xff, 0xab, 0xcd, 0xef});  // RFC 2464 7: 33:33 + low 32 bits
  Put(header, kMac);
  Put(header, {0x86, 0xdd, 0x60, 0, 0, 0, 0, 24, 58, 255});
  Put(header, Ipv6{});  // unspecified source: no source link-layer option allowed
  Put(header, group);
  CHECK_EQ(Slice(frame, 0, 54), header);
  Bytes icmp = Slice(frame, 54, frame.size());
  CHECK_EQ(icmp[0], 135);
  CHECK_EQ(icmp[4], 0);
  const uint16_t sent = static_cast<uint16_t>((icmp[2] << 8) | icmp[3]);
  icmp[2] = icmp[3] = 0;
  CHECK_EQ(sent, ReferenceChecksum(Ipv6{}, group, icmp));
}

TEST(ChecksumMatchesReference) {
  // Odd and even lengths, and bytes that make the sum carry.
  for (size_t length : {1u, 2u, 7u, 24u, 33u, 200u}) {
    Bytes data(length);
    for (size_t i = 0; i < length; ++i) data[i] = static_cast<uint8_t>(0xff - i * 37);
    CHECK_EQ(Icmpv6Checksum(kV6, kAllNodes, data.data(), data.size()), ReferenceChecksum(kV6, kAllNodes, data));
  }
}

TEST(ChecksumOfCorrectMessageSumsToZero) {
  const Bytes frame = NeighbourAdvertisement(kMac, kV6);
  CHECK_EQ(Icmpv6Checksum(kV6, kAllNodes, frame.data() + 54, frame.size() - 54), 0);
}

TEST(BuildersPadToMinimumFrame) {
  CHECK_EQ(GratuitousArp(ArpOperation::kRequest, kMac, kV4).size(), kMinFrameLength);
  CHECK_EQ(ArpProbe(kMac, kV4).size(), kMinFrameLength);
  CHECK(NeighbourAdvertisement(kMac, kV6).size() >= kMinFrameLength);
  CHECK(DadNeighbourSolicitation(kMac, kV6).size() >= kMinFrameLength);
}

TEST(ParseArpRoundTrip) {
  const ParsedFrame request = ParseBytes(GratuitousArp(ArpOperation::kRequest, kMac, kV4));
  CHECK(request.kind == FrameKind::kArpRequest);
  CHECK(request.sender_mac == kMac);
  CHECK(request.sender_ip == kV4);
  CHECK(request.target_ip == kV4);
  CHECK(request.source == kMac);
  CHECK_EQ(request.ethertype, kEthertypeArp);
  const ParsedFrame reply = ParseBytes(GratuitousArp(ArpOperation::kReply, kMac, kV4));
  CHECK(reply.kind == FrameKind::kArpReply);
  CHECK(reply.target_mac == kMac);
  const ParsedFrame probe = ParseBytes(ArpProbe(kMac, kV4));
  CHECK(probe.sender_ip == Ipv4{});
  CHECK(probe.target_ip == kV4);
}

TEST(ParseNeighbourRoundTrip) {
  const ParsedFrame na = ParseBytes(NeighbourAdvertisement(kMac, kV6));
  CHECK(na.kind == FrameKind::kNeighbourAdvertisement);
  CHECK(na.target == kV6);
  CHECK(na.ip_source == kV6);
  CHECK(na.ip_destination == kAllNodes);
  CHECK_EQ(na.hop_limit, 255);
  CHECK(na.override_flag && !na.router && !na.solicited);
  CHECK(na.has_link_layer_option);
  CHECK(na.link_layer_address == kMac);
  CHECK(na.options_valid);
  CHECK(na.checksum_valid);
  const ParsedFrame ns = ParseBytes(DadNeighbourSolicitation(kMac, kV6));
  CHECK(ns.kind == FrameKind::kNeighbourSolicitation);
  CHECK(ns.target == kV6);
  CHECK(!ns.has_link_layer_option);
  CHECK(ns.options_valid);
  CHECK(ns.checksum_valid);
}

TEST(ParseVlanTaggedFrame) {
  Bytes frame = GratuitousArp(ArpOperation::kRequest, kMac, kV4);
  frame.insert(frame.begin() + 12, {0x81, 0x00, 0x20, 0x2a});  // priority 1, VLAN 42
  const ParsedFrame parsed = ParseBytes(frame);
  CHECK_EQ(parsed.vlan, 42);
  CHECK_EQ(parsed.ethertype, kEthertypeArp);
  CHECK(parsed.kind == FrameKind::kArpRequest);
  CHECK(parsed.sender_ip == kV4);
  const ParsedFrame cut = ParseBytes(Slice(frame, 0, 16));  // tag cut in half
  CHECK(cut.kind == FrameKind::kOther);
  CHECK(cut.has_ethernet);
}

TEST(ParseRefusesTruncatedFrames) {
  const Bytes arp = GratuitousArp(ArpOperation::kRequest, kMac, kV4);
  CHECK(ParseBytes(Slice(arp, 0, 14 + 27)).kind == FrameKind::kOther);  // one byte short of the ARP body
  CHECK(ParseBytes(Slice(arp, 0, 14 + 28)).kind == FrameKind::kArpRequest);
  const ParsedFrame runt = ParseBytes(Slice(arp, 0, 13));
  CHECK(!runt.has_ethernet);
  CHECK(runt.kind == FrameKind::kOther);
  const Bytes na = NeighbourAdvertisement(kMac, kV6);
  CHECK(ParseBytes(Slice(na, 0, na.size() - 1)).kind == FrameKind::kOther);  // IPv6 length says more
  CHECK(ParseBytes(Bytes()).kind == FrameKind::kOther);
}

TEST(ParseFlagsCorruptChecksum) {
  Bytes na = NeighbourAdvertisement(kMac, kV6);
  na[54 + 8 + 15] ^= 0x01;  // the target's last byte
  const ParsedFrame parsed = ParseBytes(na);
  CHECK(parsed.kind == FrameKind::kNeighbourAdvertisement);
  CHECK(!parsed.checksum_valid);
}

TEST(ParseFlagsMalformedOptions) {
  Bytes na = NeighbourAdvertisement(kMac, kV6);
  na[54 + 25] = 0;  // option length 0: RFC 4861 says drop
  const ParsedFrame zero = ParseBytes(na);
  CHECK(!zero.options_valid);
  CHECK(!zero.has_link_layer_option);
  na[54 + 25] = 2;  // 16 bytes claimed, 8 there
  CHECK(!ParseBytes(na).options_valid);
}

TEST(ParseIgnoresOtherTraffic) {
  Bytes ipv4 = GratuitousArp(ArpOperation::kRequest, kMac, kV4);
  ipv4[12] = 0x08;
  ipv4[13] = 0x00;  // IPv4, not ARP
  CHECK(ParseBytes(ipv4).kind == FrameKind::kOther);
  Bytes arp = GratuitousArp(ArpOperation::kRequest, kMac, kV4);
  arp[14 + 7] = 3;  // RARP request operation
  CHECK(ParseBytes(arp).kind == FrameKind::kOther);
  Bytes na = NeighbourAdvertisement(kMac, kV6);
  na[54] = 128;  // echo request
  CHECK(ParseBytes(na).kind == FrameKind::kOther);
  Bytes nonzero_code = NeighbourAdvertisement(kMac, kV6);
  nonzero_code[55] = 1;
  CHECK(ParseBytes(nonzero_code).kind == FrameKind::kOther);
}
