#include "capture_filter.h"

#include <linux/if_ether.h>
#include <netinet/in.h>

namespace vip {
namespace capture_filter {

namespace {

// Frame offsets (SOCK_RAW: from the Ethernet header).
constexpr uint32_t kEthertype = 12;
constexpr uint32_t kArpSenderIp = 14 + 14;     // after htype, ptype, hlen, plen, op, sender MAC
constexpr uint32_t kIpv6NextHeader = 14 + 6;
constexpr uint32_t kIpv6Source = 14 + 8;
constexpr uint32_t kIcmpv6Type = 14 + 40;
constexpr uint32_t kNeighbourTarget = 14 + 40 + 8;  // type, code, checksum, flags/reserved

uint32_t Word(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// A tiny assembler: conditional jumps name labels, resolved at the end.
// Classic BPF jumps are forward only with 8-bit offsets; Finish() fails
// (returns empty) if one does not fit.
class Assembler {
 public:
  int NewLabel() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void Bind(int label) { labels_[label] = static_cast<int>(code_.size()); }
  void Statement(uint16_t code, uint32_t k) { code_.push_back(BPF_STMT(code, k)); }
  // if (A == k) goto on_true else goto on_false; a label of -1 means "next instruction".
  void JumpIfEqual(uint32_t k, int on_true, int on_false) {
    fixups_.push_back({code_.size(), on_true, on_false});
    code_.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0));
  }
  std::vector<sock_filter> Finish() {
    for (const Fixup& f : fixups_) {
      uint8_t jt = 0, jf = 0;
      if (!Offset(f.at, f.on_true, &jt) || !Offset(f.at, f.on_false, &jf)) return {};
      code_[f.at].jt = jt;
      code_[f.at].jf = jf;
    }
    return code_;
  }

 private:
  struct Fixup {
    size_t at;
    int on_true;
    int on_false;
  };
  bool Offset(size_t at, int label, uint8_t* out) const {
    if (label < 0) {
      *out = 0;
      return true;
    }
    const int target = labels_[label];
    const int offset = target - static_cast<int>(at) - 1;
    if (target < 0 || offset < 0 || offset > 255) return false;
    *out = static_cast<uint8_t>(offset);
    return true;
  }
  std::vector<sock_filter> code_;
  std::vector<int> labels_;
  std::vector<Fixup> fixups_;
};

// A == one of the 16-byte addresses at `offset`? Jumps to `match`, falls
// through to `no_match` (placed by the caller right after).
void MatchIpv6(Assembler& a, uint32_t offset, const std::vector<frames::Ipv6>& addresses, int match, int no_match) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    const bool last = i + 1 == addresses.size();
    const int next = last ? no_match : a.NewLabel();
    for (uint32_t word = 0; word < 4; ++word) {
      a.Statement(BPF_LD | BPF_W | BPF_ABS, offset + 4 * word);
      a.JumpIfEqual(Word(addresses[i].data() + 4 * word), word == 3 ? match : -1, next);
    }
    if (!last) a.Bind(next);
  }
}

}  // namespace

std::vector<sock_filter> NeighbourProgram() {
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, kEthertype),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, kIpv6NextHeader),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 4),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, kIcmpv6Type),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, frames::kIcmpv6NeighbourSolicitation, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, frames::kIcmpv6NeighbourAdvertisement, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kAccept),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
}

std::vector<sock_filter> AddressProgram(const std::vector<frames::Ipv4>& v4, const std::vector<frames::Ipv6>& v6) {
  if (v4.size() > kMaxAddressesPerFamily || v6.size() > kMaxAddressesPerFamily) return {};
  if (v4.empty() && v6.empty()) return {};
  // Every section ends in its own returns, so that no jump has to cross more
  // than one section (offsets are 8 bits).
  Assembler a;
  const int untagged = a.NewLabel(), ipv6 = a.NewLabel();

  // A VLAN tag in the metadata with a VLAN id other than 0: another VLAN.
  a.Statement(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
  a.JumpIfEqual(0, untagged, -1);
  a.Statement(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG);
  a.Statement(BPF_ALU | BPF_AND | BPF_K, 0x0fff);
  a.JumpIfEqual(0, untagged, -1);
  a.Statement(BPF_RET | BPF_K, 0);
  a.Bind(untagged);

  a.Statement(BPF_LD | BPF_H | BPF_ABS, kEthertype);
  if (!v4.empty()) {
    const int accept = a.NewLabel();
    a.JumpIfEqual(ETH_P_ARP, -1, ipv6);
    a.Statement(BPF_LD | BPF_W | BPF_ABS, kArpSenderIp);
    for (const frames::Ipv4& address : v4) a.JumpIfEqual(Word(address.data()), accept, -1);
    a.Statement(BPF_RET | BPF_K, 0);
    a.Bind(accept);
    a.Statement(BPF_RET | BPF_K, kAccept);
  }
  a.Bind(ipv6);
  if (!v6.empty()) {
    const int drop = a.NewLabel(), advertisement = a.NewLabel(), solicitation = a.NewLabel();
    a.JumpIfEqual(ETH_P_IPV6, -1, drop);
    a.Statement(BPF_LD | BPF_B | BPF_ABS, kIpv6NextHeader);
    a.JumpIfEqual(IPPROTO_ICMPV6, -1, drop);
    a.Statement(BPF_LD | BPF_B | BPF_ABS, kIcmpv6Type);
    a.JumpIfEqual(frames::kIcmpv6NeighbourAdvertisement, advertisement, -1);
    a.JumpIfEqual(frames::kIcmpv6NeighbourSolicitation, solicitation, drop);
    a.Bind(drop);
    a.Statement(BPF_RET | BPF_K, 0);
    for (const auto& [label, offset] : {std::pair<int, uint32_t>{advertisement, kNeighbourTarget},
                                        std::pair<int, uint32_t>{solicitation, kIpv6Source}}) {
      const int accept = a.NewLabel(), miss = a.NewLabel();
      a.Bind(label);
      MatchIpv6(a, offset, v6, accept, miss);
      a.Bind(miss);
      a.Statement(BPF_RET | BPF_K, 0);
      a.Bind(accept);
      a.Statement(BPF_RET | BPF_K, kAccept);
    }
  } else {
    a.Statement(BPF_RET | BPF_K, 0);
  }
  return a.Finish();
}

}  // namespace capture_filter
}  // namespace vip
