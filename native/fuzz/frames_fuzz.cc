// libFuzzer harness for the frame parser and builders (native/frames.cc). Not
// part of binding.gyp: build and run with `native/fuzz/run.sh frames`.
//
// Properties checked beyond "no crash, no out-of-bounds read":
//  - parsing is deterministic;
//  - a frame classified as ARP or neighbour discovery was long enough to hold
//    what the parser reports (no field invented from past the end);
//  - round trip: the first bytes of the input pick a MAC and an address, every
//    builder's frame for them parses back as its own kind with the same MAC and
//    address, a valid ICMPv6 checksum, and at least the minimum frame length.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "../frames.h"
#include "fuzz_support.h"

using namespace vip::frames;

using vip_fuzz::Check;

static bool Same(const ParsedFrame& a, const ParsedFrame& b) {
  return a.kind == b.kind && a.has_ethernet == b.has_ethernet && a.destination == b.destination &&
         a.source == b.source && a.ethertype == b.ethertype && a.vlan == b.vlan && a.sender_mac == b.sender_mac &&
         a.sender_ip == b.sender_ip && a.target_mac == b.target_mac && a.target_ip == b.target_ip &&
         a.ip_source == b.ip_source && a.ip_destination == b.ip_destination && a.hop_limit == b.hop_limit &&
         a.target == b.target && a.router == b.router && a.solicited == b.solicited &&
         a.override_flag == b.override_flag && a.has_link_layer_option == b.has_link_layer_option &&
         a.link_layer_address == b.link_layer_address && a.checksum_valid == b.checksum_valid;
}

static void CheckParsed(const ParsedFrame& f, size_t size) {
  constexpr size_t kEthernet = 14, kArp = 28, kIpv6 = 40, kNeighbour = 24;
  const size_t tag = f.vlan != 0 ? 4 : 0;
  switch (f.kind) {
    case FrameKind::kArpRequest:
    case FrameKind::kArpReply:
      Check(f.has_ethernet && size >= kEthernet + tag + kArp, "an ARP frame holds an ARP body");
      Check(f.ethertype == kEthertypeArp, "ARP kind has the ARP ethertype");
      break;
    case FrameKind::kNeighbourSolicitation:
    case FrameKind::kNeighbourAdvertisement:
      Check(f.has_ethernet && size >= kEthernet + tag + kIpv6 + kNeighbour, "an ND frame holds IPv6 + ND headers");
      Check(f.ethertype == kEthertypeIpv6, "ND kind has the IPv6 ethertype");
      break;
    case FrameKind::kOther:
      break;
  }
  if (!f.has_ethernet) Check(size < kEthernet, "only a runt lacks an Ethernet header");
}

static void RoundTrip(const uint8_t* data, size_t size) {
  if (size < 6 + 16) return;
  Mac mac;
  memcpy(mac.data(), data, 6);
  mac[0] &= 0xfe;  // a station address: the multicast bit clear
  Ipv4 v4;
  memcpy(v4.data(), data + 6, 4);
  Ipv6 v6;
  memcpy(v6.data(), data + 6, 16);

  for (ArpOperation op : {ArpOperation::kRequest, ArpOperation::kReply}) {
    const std::vector<uint8_t> frame = GratuitousArp(op, mac, v4);
    Check(frame.size() >= kMinFrameLength, "GARP padded to the minimum frame");
    const ParsedFrame f = Parse(frame.data(), frame.size());
    Check(f.kind == (op == ArpOperation::kRequest ? FrameKind::kArpRequest : FrameKind::kArpReply), "GARP kind");
    Check(f.sender_mac == mac && f.source == mac && f.sender_ip == v4 && f.target_ip == v4, "GARP fields");
  }
  {
    const std::vector<uint8_t> frame = ArpProbe(mac, v4);
    const ParsedFrame f = Parse(frame.data(), frame.size());
    Check(f.kind == FrameKind::kArpRequest && f.target_ip == v4 && f.sender_ip == Ipv4{}, "probe fields");
  }
  {
    const std::vector<uint8_t> frame = NeighbourAdvertisement(mac, v6);
    Check(frame.size() >= kMinFrameLength, "NA padded to the minimum frame");
    const ParsedFrame f = Parse(frame.data(), frame.size());
    Check(f.kind == FrameKind::kNeighbourAdvertisement && f.target == v6 && f.override_flag && !f.solicited &&
              f.has_link_layer_option && f.link_layer_address == mac && f.hop_limit == 255,
          "NA fields");
    Check(f.checksum_valid, "NA checksum verifies");
  }
  {
    const std::vector<uint8_t> frame = DadNeighbourSolicitation(mac, v6);
    const ParsedFrame f = Parse(frame.data(), frame.size());
    Check(f.kind == FrameKind::kNeighbourSolicitation && f.target == v6 && !f.has_link_layer_option &&
              f.ip_source == Ipv6{},
          "DAD NS fields");
    Check(f.checksum_valid, "NS checksum verifies");
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized heap copy so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data, data + size);
  const ParsedFrame first = Parse(bytes.data(), bytes.size());
  const ParsedFrame second = Parse(bytes.data(), bytes.size());
  Check(Same(first, second), "deterministic");
  CheckParsed(first, size);
  RoundTrip(bytes.data(), bytes.size());
  return 0;
}

#ifdef VIP_FUZZ_WRITE_SEEDS
// Seeds: one frame from each builder, and a VLAN-tagged GARP, so the fuzzer
// mutates real shapes.
int main(int argc, char** argv) {
  const Mac mac = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
  const Ipv4 v4 = {192, 0, 2, 100};
  const Ipv6 v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64};
  std::vector<std::vector<uint8_t>> seeds = {
      GratuitousArp(ArpOperation::kRequest, mac, v4), GratuitousArp(ArpOperation::kReply, mac, v4),
      ArpProbe(mac, v4), NeighbourAdvertisement(mac, v6), DadNeighbourSolicitation(mac, v6)};
  std::vector<uint8_t> tagged = seeds[0];
  const uint8_t tag[] = {0x81, 0x00, 0x00, 0x2a};
  tagged.insert(tagged.begin() + 12, tag, tag + sizeof(tag));
  seeds.push_back(tagged);
  return vip_fuzz::WriteSeeds(argc, argv, seeds);
}
#endif
