// libFuzzer harness for the frame parser and builders (native/frames.cc). Not
// part of binding.gyp: build and run with `native/fuzz/run.sh frames`.
//
// Properties checked beyond "no crash, no out-of-bounds read":
//  - parsing is deterministic;
//  - a frame classified as ARP or neighbour discovery was long enough to hold
//    what the parser reports (no field invented from past the end);
//  - round trip: the first bytes of the input pick a MAC and an address, every
//    builder's frame for them parses back as its own kind with the same MAC and
//    address, a valid ICMPv6 checksum, and at least the minimum frame length;
//  - `options_valid` agrees with an independent walk of the ND options;
//  - the capture filters (native/capture_filter.cc), run by a reference
//    classic-BPF interpreter with the kernel's out-of-bounds rule (a load past
//    the end drops the frame), for several address sets and VLAN metadata:
//    the per-address program passes every untagged frame the parser shows
//    claiming one of the addresses (what the conflict detector counts), drops
//    everything with a VLAN id other than 0 in the metadata, and passes
//    nothing whose bytes do not name one of the addresses at the right place;
//    the neighbour program passes exactly ARP and ICMPv6 NS/NA.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "../capture_filter.h"
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

// Options walked independently of the parser: RFC 4861 4.6 lengths in 8-byte
// units, none zero, filling the ICMPv6 message exactly.
static bool OptionsWellFormed(const uint8_t* data, size_t size, size_t offset) {
  const size_t ip = offset;
  const size_t payload = (static_cast<size_t>(data[ip + 4]) << 8) | data[ip + 5];
  const size_t end = ip + 40 + payload;
  if (end > size) return false;
  size_t at = ip + 40 + 24;
  while (at < end) {
    if (end - at < 2) return false;
    const size_t length = static_cast<size_t>(data[at + 1]) * 8;
    if (length == 0 || length > end - at) return false;
    at += length;
  }
  return at == end;
}

struct Metadata {
  bool tag_present;
  uint16_t tci;
};

// Classic BPF, the subset the capture programs use, with the kernel's rules
// for loads past the end (the program returns 0) and the VLAN ancillary data.
static uint32_t RunFilter(const std::vector<sock_filter>& program, const uint8_t* data, size_t size, Metadata meta) {
  uint32_t a = 0;
  size_t pc = 0;
  for (size_t steps = 0; steps <= program.size(); ++steps) {
    Check(pc < program.size(), "the filter never runs off its end");
    const sock_filter& in = program[pc];
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS: {
        const size_t width = BPF_SIZE(in.code) == BPF_W ? 4 : BPF_SIZE(in.code) == BPF_H ? 2 : 1;
        if (in.k >= static_cast<uint32_t>(SKF_AD_OFF)) {
          if (in.k == static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)) a = meta.tag_present ? 1 : 0;
          else if (in.k == static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_VLAN_TAG)) a = meta.tci;
          else Check(false, "only the VLAN ancillary loads are used");
          break;
        }
        if (in.k > size || width > size - in.k) return 0;
        a = 0;
        for (size_t i = 0; i < width; ++i) a = (a << 8) | data[in.k + i];
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K:
        a &= in.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += 1 + (a == in.k ? in.jt : in.jf);
        continue;
      case BPF_RET | BPF_K:
        return in.k;
      default:
        Check(false, "only known instructions");
    }
    ++pc;
  }
  Check(false, "forward jumps only: the filter ends");
  return 0;
}

template <size_t N>
static bool Contains(const std::vector<std::array<uint8_t, N>>& set, const uint8_t* bytes) {
  for (const auto& item : set) {
    if (memcmp(item.data(), bytes, N) == 0) return true;
  }
  return false;
}

static void CheckFilters(const uint8_t* data, size_t size, const ParsedFrame& f) {
  const bool in_frame_tag = size >= 14 && data[12] == 0x81 && data[13] == 0x00;
  const Metadata metas[] = {{false, 0}, {true, 0x2000}, {true, 0x1000}, {true, 0x0005}, {true, 0xffff}};

  // The neighbour program: exactly ARP and ICMPv6 NS/NA by their header bytes.
  const std::vector<sock_filter> neighbour = vip::capture_filter::NeighbourProgram();
  const bool arp_bytes = size >= 14 && data[12] == 0x08 && data[13] == 0x06;
  const bool nd_bytes = size >= 55 && data[12] == 0x86 && data[13] == 0xdd && data[20] == 58 &&
                        (data[54] == kIcmpv6NeighbourSolicitation || data[54] == kIcmpv6NeighbourAdvertisement);
  const bool neighbour_pass = RunFilter(neighbour, data, size, metas[0]) != 0;
  Check(neighbour_pass == (arp_bytes || nd_bytes), "the neighbour program passes exactly ARP and NS/NA");
  if (f.kind != FrameKind::kOther && !in_frame_tag) Check(neighbour_pass, "every parsed ARP/ND frame passes the neighbour program");

  // Address sets: the frame's own claimed address (so that the "must pass"
  // side is exercised), fixed others, and full sets at the per-family limit.
  std::vector<Ipv4> own4;
  std::vector<Ipv6> own6;
  if (f.kind == FrameKind::kArpRequest || f.kind == FrameKind::kArpReply) own4.push_back(f.sender_ip);
  if (f.kind == FrameKind::kNeighbourAdvertisement) own6.push_back(f.target);
  if (f.kind == FrameKind::kNeighbourSolicitation) own6.push_back(f.ip_source);
  std::vector<Ipv4> others4;
  std::vector<Ipv6> others6;
  for (uint8_t i = 0; i < vip::capture_filter::kMaxAddressesPerFamily; ++i) {
    others4.push_back(Ipv4{192, 0, 2, static_cast<uint8_t>(100 + i)});
    others6.push_back(Ipv6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, i});
  }
  std::vector<Ipv4> full4(others4.begin(), others4.end() - 1);
  std::vector<Ipv6> full6(others6.begin(), others6.end() - 1);
  full4.insert(full4.end(), own4.begin(), own4.end());
  full6.insert(full6.end(), own6.begin(), own6.end());
  const std::pair<std::vector<Ipv4>, std::vector<Ipv6>> sets[] = {
      {own4, own6}, {own4, {}}, {{}, own6}, {full4, full6}, {{others4[0]}, {others6[0]}}, {others4, others6}};

  for (const auto& [v4, v6] : sets) {
    const std::vector<sock_filter> program = vip::capture_filter::AddressProgram(v4, v6);
    if (v4.empty() && v6.empty()) {
      Check(program.empty(), "no addresses, no program");
      continue;
    }
    Check(!program.empty(), "up to the limit per family, the addresses fit the program");
    Check(program.size() <= BPF_MAXINSNS, "the kernel's instruction limit");
    bool claimed = false;
    if ((f.kind == FrameKind::kArpRequest || f.kind == FrameKind::kArpReply) && Contains(v4, f.sender_ip.data())) claimed = true;
    if (f.kind == FrameKind::kNeighbourAdvertisement && Contains(v6, f.target.data())) claimed = true;
    if (f.kind == FrameKind::kNeighbourSolicitation && Contains(v6, f.ip_source.data())) claimed = true;
    for (const Metadata& meta : metas) {
      const bool pass = RunFilter(program, data, size, meta) != 0;
      const bool other_vlan = meta.tag_present && (meta.tci & 0x0fff) != 0;
      if (other_vlan) Check(!pass, "a VLAN id other than 0 in the metadata is dropped");
      if (claimed && !other_vlan && !in_frame_tag) Check(pass, "a frame claiming one of the addresses passes");
      if (pass) {
        // Nothing passes whose bytes do not name an address where the detector looks.
        const bool arp = arp_bytes && size >= 32 && Contains(v4, data + 28);
        const bool na = size >= 78 && data[12] == 0x86 && data[13] == 0xdd && data[20] == 58 &&
                        data[54] == kIcmpv6NeighbourAdvertisement && Contains(v6, data + 62);
        const bool ns = size >= 55 && data[12] == 0x86 && data[13] == 0xdd && data[20] == 58 &&
                        data[54] == kIcmpv6NeighbourSolicitation && Contains(v6, data + 22);
        Check(arp || na || ns, "the address program passes only frames about the addresses");
      }
    }
  }
  // Over the limit: the caller falls back to the neighbour program.
  std::vector<Ipv4> too_many = others4;
  too_many.push_back(Ipv4{198, 51, 100, 1});
  Check(vip::capture_filter::AddressProgram(too_many, {}).empty(), "more than the limit: no program");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized heap copy so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data, data + size);
  const ParsedFrame first = Parse(bytes.data(), bytes.size());
  const ParsedFrame second = Parse(bytes.data(), bytes.size());
  Check(Same(first, second), "deterministic");
  CheckParsed(first, size);
  if (first.kind == FrameKind::kNeighbourSolicitation || first.kind == FrameKind::kNeighbourAdvertisement) {
    Check(first.options_valid == OptionsWellFormed(bytes.data(), bytes.size(), first.vlan != 0 ? 18 : 14),
          "options_valid agrees with an independent walk");
  }
  CheckFilters(bytes.data(), bytes.size(), first);
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
