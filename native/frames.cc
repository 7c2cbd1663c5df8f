#include "frames.h"

#include <string.h>

namespace vip {
namespace frames {

namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kArpPayload = 28;          // Ethernet/IPv4 ARP
constexpr size_t kIpv6Header = 40;
constexpr size_t kNeighbourMessage = 24;    // ICMPv6 header + reserved/flags + target
constexpr size_t kLinkLayerOption = 8;      // type, length (in 8-byte units), MAC
constexpr uint8_t kNextHeaderIcmpv6 = 58;
constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint8_t kFlagRouter = 0x80;
constexpr uint8_t kFlagSolicited = 0x40;
constexpr uint8_t kFlagOverride = 0x20;

constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kAllNodesMac = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
constexpr Ipv6 kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

// Appends big-endian fields and byte arrays; the builders read like the RFC
// diagrams this way.
class Writer {
 public:
  explicit Writer(size_t reserve) { bytes_.reserve(reserve < kMinFrameLength ? kMinFrameLength : reserve); }
  Writer& U8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  Writer& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  template <size_t N>
  Writer& Bytes(const std::array<uint8_t, N>& a) {
    bytes_.insert(bytes_.end(), a.begin(), a.end());
    return *this;
  }
  Writer& Zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  uint8_t* at(size_t offset) { return bytes_.data() + offset; }
  std::vector<uint8_t> Padded() {
    if (bytes_.size() < kMinFrameLength) bytes_.resize(kMinFrameLength, 0);
    return std::move(bytes_);
  }

 private:
  std::vector<uint8_t> bytes_;
};

void Ethernet(Writer& w, const Mac& destination, const Mac& source, uint16_t ethertype) {
  w.Bytes(destination).Bytes(source).U16(ethertype);
}

std::vector<uint8_t> Arp(ArpOperation operation, const Mac& ethernet_destination, const Mac& sender_mac,
                         const Ipv4& sender_ip, const Mac& target_mac, const Ipv4& target_ip) {
  Writer w(kEthernetHeader + kArpPayload);
  Ethernet(w, ethernet_destination, sender_mac, kEthertypeArp);
  w.U16(1)        // hardware type: Ethernet
      .U16(0x0800)  // protocol type: IPv4
      .U8(6)
      .U8(4)
      .U16(static_cast<uint16_t>(operation))
      .Bytes(sender_mac)
      .Bytes(sender_ip)
      .Bytes(target_mac)
      .Bytes(target_ip);
  return w.Padded();
}

// Writes the IPv6 header and the ICMPv6 neighbour message around `target`
// and the optional link-layer option, then fills in the checksum.
std::vector<uint8_t> NeighbourMessage(const Mac& ethernet_destination, const Mac& source_mac,
                                      const Ipv6& ip_source, const Ipv6& ip_destination, uint8_t type,
                                      uint8_t flags, const Ipv6& target, uint8_t option_type) {
  const size_t icmp_length = kNeighbourMessage + (option_type != 0 ? kLinkLayerOption : 0);
  Writer w(kEthernetHeader + kIpv6Header + icmp_length);
  Ethernet(w, ethernet_destination, source_mac, kEthertypeIpv6);
  w.U8(0x60).Zeros(3)  // version 6, traffic class 0, flow label 0
      .U16(static_cast<uint16_t>(icmp_length))
      .U8(kNextHeaderIcmpv6)
      .U8(255)  // hop limit: receivers drop neighbour discovery that crossed a router
      .Bytes(ip_source)
      .Bytes(ip_destination);
  const size_t icmp_offset = w.size();
  w.U8(type).U8(0).U16(0)  // code 0, checksum filled in below
      .U8(flags)
      .Zeros(3)
      .Bytes(target);
  if (option_type != 0) w.U8(option_type).U8(1).Bytes(source_mac);
  const uint16_t checksum = Icmpv6Checksum(ip_source, ip_destination, w.at(icmp_offset), icmp_length);
  w.at(icmp_offset)[2] = static_cast<uint8_t>(checksum >> 8);
  w.at(icmp_offset)[3] = static_cast<uint8_t>(checksum);
  return w.Padded();
}

// Bounds-checked big-endian reads over a received frame.
class Reader {
 public:
  Reader(const uint8_t* data, size_t length) : data_(data), length_(length) {}
  bool Has(size_t offset, size_t n) const { return offset <= length_ && n <= length_ - offset; }
  uint8_t U8(size_t offset) const { return data_[offset]; }
  uint16_t U16(size_t offset) const {
    return static_cast<uint16_t>((data_[offset] << 8) | data_[offset + 1]);
  }
  template <size_t N>
  void Copy(size_t offset, std::array<uint8_t, N>* out) const {
    memcpy(out->data(), data_ + offset, N);
  }
  const uint8_t* at(size_t offset) const { return data_ + offset; }
  size_t length() const { return length_; }

 private:
  const uint8_t* data_;
  size_t length_;
};

void ParseArp(const Reader& r, size_t offset, ParsedFrame* out) {
  if (!r.Has(offset, kArpPayload)) return;
  // Only Ethernet/IPv4 ARP has the layout below.
  if (r.U16(offset) != 1 || r.U16(offset + 2) != 0x0800 || r.U8(offset + 4) != 6 || r.U8(offset + 5) != 4) return;
  const uint16_t operation = r.U16(offset + 6);
  if (operation != 1 && operation != 2) return;
  r.Copy(offset + 8, &out->sender_mac);
  r.Copy(offset + 14, &out->sender_ip);
  r.Copy(offset + 18, &out->target_mac);
  r.Copy(offset + 24, &out->target_ip);
  out->kind = operation == 1 ? FrameKind::kArpRequest : FrameKind::kArpReply;
}

void ParseNeighbourDiscovery(const Reader& r, size_t offset, ParsedFrame* out) {
  if (!r.Has(offset, kIpv6Header)) return;
  if ((r.U8(offset) >> 4) != 6) return;
  const size_t payload_length = r.U16(offset + 4);
  // Extension headers before ICMPv6 are not followed: neighbour discovery
  // messages do not carry them in practice, and RFC 6980 forbids fragmenting them.
  if (r.U8(offset + 6) != kNextHeaderIcmpv6) return;
  const size_t icmp = offset + kIpv6Header;
  // Trailing Ethernet padding is not part of the message: trust the IPv6 length.
  if (payload_length < kNeighbourMessage || !r.Has(icmp, payload_length)) return;
  const uint8_t type = r.U8(icmp);
  if (type != kIcmpv6NeighbourSolicitation && type != kIcmpv6NeighbourAdvertisement) return;
  if (r.U8(icmp + 1) != 0) return;

  out->hop_limit = r.U8(offset + 7);
  r.Copy(offset + 8, &out->ip_source);
  r.Copy(offset + 24, &out->ip_destination);
  const uint8_t flags = r.U8(icmp + 4);
  out->router = (flags & kFlagRouter) != 0;
  out->solicited = (flags & kFlagSolicited) != 0;
  out->override_flag = (flags & kFlagOverride) != 0;
  r.Copy(icmp + 8, &out->target);

  // The checksum over the message with its checksum field included sums to
  // zero when it is right; summing it that way avoids copying the message.
  out->checksum_valid = Icmpv6Checksum(out->ip_source, out->ip_destination, r.at(icmp), payload_length) == 0;

  const uint8_t wanted_option =
      type == kIcmpv6NeighbourAdvertisement ? kOptionTargetLinkLayer : kOptionSourceLinkLayer;
  size_t option = icmp + kNeighbourMessage;
  const size_t end = icmp + payload_length;
  // Walk every option (to tell whether they are well formed); the first
  // link-layer option of the wanted kind is the one reported.
  while (option + 2 <= end) {
    const size_t option_length = static_cast<size_t>(r.U8(option + 1)) * 8;
    if (option_length == 0 || option_length > end - option) break;  // malformed: stop, keep what we have
    if (!out->has_link_layer_option && r.U8(option) == wanted_option && option_length >= 8) {
      out->has_link_layer_option = true;
      r.Copy(option + 2, &out->link_layer_address);
    }
    option += option_length;
  }
  out->options_valid = option == end;
  out->kind = type == kIcmpv6NeighbourAdvertisement ? FrameKind::kNeighbourAdvertisement
                                                     : FrameKind::kNeighbourSolicitation;
}

}  // namespace

std::vector<uint8_t> GratuitousArp(ArpOperation operation, const Mac& mac, const Ipv4& ip) {
  const Mac target_mac = operation == ArpOperation::kReply ? mac : Mac{};
  return Arp(operation, kBroadcast, mac, ip, target_mac, ip);
}

std::vector<uint8_t> ArpProbe(const Mac& mac, const Ipv4& ip) {
  return Arp(ArpOperation::kRequest, kBroadcast, mac, Ipv4{}, Mac{}, ip);
}

std::vector<uint8_t> NeighbourAdvertisement(const Mac& mac, const Ipv6& ip) {
  return NeighbourMessage(kAllNodesMac, mac, ip, kAllNodes, kIcmpv6NeighbourAdvertisement, kFlagOverride, ip,
                          kOptionTargetLinkLayer);
}

std::vector<uint8_t> DadNeighbourSolicitation(const Mac& mac, const Ipv6& ip) {
  // Solicited-node multicast: ff02::1:ffXX:XXXX from the low 24 bits of ip,
  // mapped to Ethernet 33:33 + the low 32 bits of the group (RFC 2464 7).
  Ipv6 group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, ip[13], ip[14], ip[15]};
  Mac group_mac = {0x33, 0x33, group[12], group[13], group[14], group[15]};
  return NeighbourMessage(group_mac, mac, Ipv6{}, group, kIcmpv6NeighbourSolicitation, 0, ip, 0);
}

uint16_t Icmpv6Checksum(const Ipv6& source, const Ipv6& destination, const uint8_t* icmp, size_t length) {
  uint64_t sum = 0;
  auto add_bytes = [&sum](const uint8_t* p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
    if (n % 2 != 0) sum += static_cast<uint32_t>(p[n - 1] << 8);
  };
  add_bytes(source.data(), source.size());
  add_bytes(destination.data(), destination.size());
  sum += static_cast<uint32_t>(length);  // upper-layer packet length (32 bits; fits in the low word here)
  sum += kNextHeaderIcmpv6;
  add_bytes(icmp, length);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

ParsedFrame Parse(const uint8_t* data, size_t length) {
  ParsedFrame out;
  Reader r(data, length);
  if (!r.Has(0, kEthernetHeader)) return out;
  out.has_ethernet = true;
  r.Copy(0, &out.destination);
  r.Copy(6, &out.source);
  size_t offset = 12;
  out.ethertype = r.U16(offset);
  offset += 2;
  // Packet sockets usually see VLAN tags already stripped into metadata; a tag
  // left in the frame (software bridges without offload) is skipped.
  if (out.ethertype == kEthertypeVlan) {
    if (!r.Has(offset, 4)) return out;
    out.vlan = r.U16(offset) & 0x0fff;
    out.ethertype = r.U16(offset + 2);
    offset += 4;
  }
  if (out.ethertype == kEthertypeArp) ParseArp(r, offset, &out);
  if (out.ethertype == kEthertypeIpv6) ParseNeighbourDiscovery(r, offset, &out);
  return out;
}

}  // namespace frames
}  // namespace vip
