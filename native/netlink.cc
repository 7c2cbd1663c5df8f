#include "netlink.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <iterator>
#include <utility>

#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

namespace vip {
namespace netlink {

size_t AddressSize(uint8_t family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

// ===========================================================================
// Encoding

namespace {

// Appends a message field by field, padding each to the 4-byte netlink
// alignment, and writes nlmsg_len last.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    Append(&header, sizeof(header));
  }

  template <typename FixedHeader>
  MessageBuilder& Fixed(const FixedHeader& fixed) {
    Append(&fixed, sizeof(fixed));
    return *this;
  }

  MessageBuilder& Attr(uint16_t type, const void* data, size_t size) {
    nlattr attr{};
    attr.nla_len = static_cast<uint16_t>(NLA_HDRLEN + size);
    attr.nla_type = type;
    Append(&attr, sizeof(attr));
    Append(data, size);
    return *this;
  }

  MessageBuilder& U32(uint16_t type, uint32_t value) { return Attr(type, &value, sizeof(value)); }

  // Netlink strings carry their terminating NUL.
  MessageBuilder& String(uint16_t type, const std::string& value) {
    return Attr(type, value.c_str(), value.size() + 1);
  }

  MessageBuilder& Address(uint16_t type, const IpAddress& address) {
    return Attr(type, address.bytes, address.size());
  }

  Bytes Finish() {
    uint32_t length = static_cast<uint32_t>(bytes_.size());
    memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof(length));
    return std::move(bytes_);
  }

 private:
  void Append(const void* data, size_t size) {
    const uint8_t* from = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), from, from + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
  }

  Bytes bytes_;
};

// Table ids above 255 do not fit the 8-bit header field: the header then says
// RT_TABLE_UNSPEC and the full id travels in an attribute (as iproute2 does).
uint8_t HeaderTable(uint32_t table) { return table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC}; }

}  // namespace

Bytes EncodeAddressRequest(Op op, const AddressRequest& request) {
  const bool add = op != Op::kDelete;
  const uint32_t flags = request.nodad ? IFA_F_NODAD : 0;
  ifaddrmsg header{};
  header.ifa_family = request.address.family;
  header.ifa_prefixlen = request.prefix_length;
  header.ifa_flags = static_cast<uint8_t>(flags & 0xFF);
  header.ifa_scope = RT_SCOPE_UNIVERSE;
  header.ifa_index = request.index;

  const uint16_t create = op == Op::kReplace ? NLM_F_CREATE | NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL;
  MessageBuilder message(add ? RTM_NEWADDR : RTM_DELADDR, add ? create : 0);
  message.Fixed(header);
  // IFA_LOCAL is the address itself; IFA_ADDRESS equal to it says "no peer".
  message.Address(IFA_LOCAL, request.address).Address(IFA_ADDRESS, request.address);
  if (!request.label.empty()) message.String(IFA_LABEL, request.label);
  if (flags != 0) message.U32(IFA_FLAGS, flags);
  if (add && request.has_lifetimes) {
    ifa_cacheinfo lifetimes{};
    lifetimes.ifa_prefered = request.preferred_lifetime;
    lifetimes.ifa_valid = request.valid_lifetime;
    message.Attr(IFA_CACHEINFO, &lifetimes, sizeof(lifetimes));
  }
  return message.Finish();
}

Bytes EncodeRouteRequest(Op op, const RouteRequest& request) {
  const bool add = op == Op::kAdd;
  rtmsg header{};
  header.rtm_family = request.family;
  header.rtm_dst_len = request.destination_length;
  header.rtm_table = HeaderTable(request.table);
  header.rtm_protocol = request.protocol;
  header.rtm_scope = request.scope;
  header.rtm_type = request.type;
  header.rtm_flags = request.onlink ? RTNH_F_ONLINK : 0;

  MessageBuilder message(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  message.Fixed(header);
  if (request.destination.present() && request.destination_length > 0) {
    message.Address(RTA_DST, request.destination);
  }
  if (request.gateway.present()) message.Address(RTA_GATEWAY, request.gateway);
  if (request.output_index != 0) message.U32(RTA_OIF, request.output_index);
  if (request.preferred_source.present()) message.Address(RTA_PREFSRC, request.preferred_source);
  if (request.has_priority) message.U32(RTA_PRIORITY, request.priority);
  if (request.table >= 256) message.U32(RTA_TABLE, request.table);
  return message.Finish();
}

Bytes EncodeRuleRequest(Op op, const RuleRequest& request) {
  const bool add = op == Op::kAdd;
  fib_rule_hdr header{};
  header.family = request.family;
  header.src_len = request.source_length;
  header.table = HeaderTable(request.table);
  header.action = FR_ACT_TO_TBL;

  MessageBuilder message(add ? RTM_NEWRULE : RTM_DELRULE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  message.Fixed(header);
  if (request.source.present() && request.source_length > 0) message.Address(FRA_SRC, request.source);
  message.U32(FRA_PRIORITY, request.priority);
  if (request.table >= 256) message.U32(FRA_TABLE, request.table);
  return message.Finish();
}

Bytes EncodeGetLinkByIndex(uint32_t index) {
  ifinfomsg header{};
  header.ifi_index = static_cast<int>(index);
  return MessageBuilder(RTM_GETLINK, 0).Fixed(header).U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS).Finish();
}

Bytes EncodeGetLinkByName(const std::string& name) {
  ifinfomsg header{};
  return MessageBuilder(RTM_GETLINK, 0)
      .Fixed(header)
      .String(IFLA_IFNAME, name)
      .U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)
      .Finish();
}

Bytes EncodeLinkDump() {
  ifinfomsg header{};
  return MessageBuilder(RTM_GETLINK, 0).Fixed(header).U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS).Finish();
}

Bytes EncodeAddressDump(uint8_t family, uint32_t index) {
  ifaddrmsg header{};
  header.ifa_family = family;
  header.ifa_index = index;
  return MessageBuilder(RTM_GETADDR, 0).Fixed(header).Finish();
}

Bytes EncodeRouteDump(uint8_t family, uint32_t table) {
  rtmsg header{};
  header.rtm_family = family;
  MessageBuilder message(RTM_GETROUTE, 0);
  message.Fixed(header);
  if (table != 0) message.U32(RTA_TABLE, table);
  return message.Finish();
}

Bytes EncodeRuleDump(uint8_t family) {
  fib_rule_hdr header{};
  header.family = family;
  return MessageBuilder(RTM_GETRULE, 0).Fixed(header).Finish();
}

// ===========================================================================
// Decoding

namespace {

// What a known attribute must look like. Attributes a decoder does not list are
// skipped (after their framing is checked), as the kernel adds new ones freely.
enum class AttrKind : uint8_t {
  kU8,         // exactly 1 byte
  kU32,        // exactly 4 bytes
  kString,     // any length; read up to the first NUL
  kAddress,    // exactly the message family's address size
  kHardware,   // 0..32 bytes (MAX_ADDR_LEN)
  kCacheInfo,  // exactly sizeof(ifa_cacheinfo)
};

struct AttrPolicy {
  uint16_t type;
  AttrKind kind;
  const char* name;  // for error messages
};

struct AttrView {
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool present() const { return data != nullptr; }
};

constexpr size_t kMaxPolicy = 8;

const AttrPolicy kLinkPolicy[] = {
    {IFLA_IFNAME, AttrKind::kString, "IFLA_IFNAME"},
    {IFLA_ADDRESS, AttrKind::kHardware, "IFLA_ADDRESS"},
    {IFLA_MTU, AttrKind::kU32, "IFLA_MTU"},
    {IFLA_OPERSTATE, AttrKind::kU8, "IFLA_OPERSTATE"},
};
enum LinkSlot { kLinkName, kLinkMac, kLinkMtu, kLinkOperstate };

const AttrPolicy kAddressPolicy[] = {
    {IFA_ADDRESS, AttrKind::kAddress, "IFA_ADDRESS"},
    {IFA_LOCAL, AttrKind::kAddress, "IFA_LOCAL"},
    {IFA_LABEL, AttrKind::kString, "IFA_LABEL"},
    {IFA_FLAGS, AttrKind::kU32, "IFA_FLAGS"},
    {IFA_CACHEINFO, AttrKind::kCacheInfo, "IFA_CACHEINFO"},
};
enum AddressSlot { kAddrAddress, kAddrLocal, kAddrLabel, kAddrFlags, kAddrCacheInfo };

const AttrPolicy kRoutePolicy[] = {
    {RTA_DST, AttrKind::kAddress, "RTA_DST"},
    {RTA_GATEWAY, AttrKind::kAddress, "RTA_GATEWAY"},
    {RTA_OIF, AttrKind::kU32, "RTA_OIF"},
    {RTA_PREFSRC, AttrKind::kAddress, "RTA_PREFSRC"},
    {RTA_PRIORITY, AttrKind::kU32, "RTA_PRIORITY"},
    {RTA_TABLE, AttrKind::kU32, "RTA_TABLE"},
};
enum RouteSlot { kRouteDst, kRouteGateway, kRouteOif, kRoutePrefsrc, kRoutePriority, kRouteTable };

const AttrPolicy kRulePolicy[] = {
    {FRA_SRC, AttrKind::kAddress, "FRA_SRC"},
    {FRA_DST, AttrKind::kAddress, "FRA_DST"},
    {FRA_PRIORITY, AttrKind::kU32, "FRA_PRIORITY"},
    {FRA_TABLE, AttrKind::kU32, "FRA_TABLE"},
};
enum RuleSlot { kRuleSrc, kRuleDst, kRulePriority, kRuleTable };

const AttrPolicy kNeighbourPolicy[] = {
    {NDA_DST, AttrKind::kAddress, "NDA_DST"},
    {NDA_LLADDR, AttrKind::kHardware, "NDA_LLADDR"},
};
enum NeighbourSlot { kNeighbourDst, kNeighbourLladdr };

const AttrPolicy kExtAckPolicy[] = {
    {NLMSGERR_ATTR_MSG, AttrKind::kString, "NLMSGERR_ATTR_MSG"},
    {NLMSGERR_ATTR_OFFS, AttrKind::kU32, "NLMSGERR_ATTR_OFFS"},
};
enum ExtAckSlot { kExtAckMsg, kExtAckOffset };

bool SizeFits(AttrKind kind, size_t size, uint8_t family) {
  switch (kind) {
    case AttrKind::kU8: return size == 1;
    case AttrKind::kU32: return size == 4;
    case AttrKind::kString: return true;
    case AttrKind::kAddress: return size != 0 && size == AddressSize(family);
    case AttrKind::kHardware: return size <= 32;
    case AttrKind::kCacheInfo: return size == sizeof(ifa_cacheinfo);
  }
  return false;
}

// Walks the attributes in data[0, size) and fills views[i] for policy[i].
// Checks every attribute's framing, and the size of the ones in the policy.
// `base` is data's offset in the message, for error messages.
template <size_t N>
bool ParseAttributes(const uint8_t* data, size_t size, size_t base, uint8_t family, const AttrPolicy (&policy)[N],
                     AttrView (&views)[N], std::string* why) {
  static_assert(N <= kMaxPolicy, "keep policies small");
  size_t offset = 0;
  while (size - offset >= NLA_HDRLEN) {
    nlattr attr;
    memcpy(&attr, data + offset, sizeof(attr));
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > size - offset) {
      *why = "attribute at byte " + std::to_string(base + offset) + " has length " +
             std::to_string(attr.nla_len) + " (" + std::to_string(size - offset) + " bytes left)";
      return false;
    }
    const uint16_t type = attr.nla_type & NLA_TYPE_MASK;
    const size_t payload = attr.nla_len - NLA_HDRLEN;
    for (size_t i = 0; i < N; ++i) {
      if (policy[i].type != type) continue;
      if (!SizeFits(policy[i].kind, payload, family)) {
        *why = std::string(policy[i].name) + " has a " + std::to_string(payload) + "-byte payload";
        return false;
      }
      views[i].data = data + offset + NLA_HDRLEN;
      views[i].size = payload;
    }
    // The last attribute's padding may be missing: never step past the end.
    const size_t step = NLA_ALIGN(attr.nla_len);
    offset = step > size - offset ? size : offset + step;
  }
  // Fewer than NLA_HDRLEN trailing bytes can only be padding; the kernel ignores them too.
  return true;
}

uint8_t ReadU8(const AttrView& view) { return view.data[0]; }

uint32_t ReadU32(const AttrView& view) {
  uint32_t value;
  memcpy(&value, view.data, sizeof(value));
  return value;
}

std::string ReadString(const AttrView& view) {
  const char* text = reinterpret_cast<const char*>(view.data);
  return std::string(text, strnlen(text, view.size));
}

IpAddress ReadAddress(const AttrView& view, uint8_t family) {
  IpAddress address;
  address.family = family;
  memcpy(address.bytes, view.data, AddressSize(family));
  return address;
}

bool CheckPrefix(const char* field, uint8_t length, uint8_t family, std::string* why) {
  if (length <= AddressSize(family) * 8) return true;
  *why = std::string(field) + " " + std::to_string(length) + " exceeds the family's " +
         std::to_string(AddressSize(family) * 8) + " bits";
  return false;
}

bool DecodeLink(const uint8_t* payload, size_t size, Link* link, std::string* why) {
  ifinfomsg header;
  if (size < sizeof(header)) {
    *why = "link message shorter than ifinfomsg";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  link->family = header.ifi_family;
  link->type = header.ifi_type;
  link->index = static_cast<uint32_t>(header.ifi_index);
  link->flags = header.ifi_flags;
  link->change = header.ifi_change;
  AttrView views[std::size(kLinkPolicy)];
  const size_t fixed = NLMSG_ALIGN(sizeof(header));
  if (!ParseAttributes(payload + fixed, size - fixed, NLMSG_HDRLEN + fixed, AF_UNSPEC, kLinkPolicy, views, why)) return false;
  if (views[kLinkName].present()) link->name = ReadString(views[kLinkName]);
  if (views[kLinkMac].present()) link->mac.assign(views[kLinkMac].data, views[kLinkMac].data + views[kLinkMac].size);
  link->has_mtu = views[kLinkMtu].present();
  if (link->has_mtu) link->mtu = ReadU32(views[kLinkMtu]);
  if (views[kLinkOperstate].present()) link->operstate = ReadU8(views[kLinkOperstate]);
  return true;
}

// Returns false with an empty *why for families this codec does not speak.
bool DecodeAddress(const uint8_t* payload, size_t size, Address* address, std::string* why) {
  ifaddrmsg header;
  if (size < sizeof(header)) {
    *why = "address message shorter than ifaddrmsg";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  if (AddressSize(header.ifa_family) == 0) return false;
  if (!CheckPrefix("ifa_prefixlen", header.ifa_prefixlen, header.ifa_family, why)) return false;
  address->family = header.ifa_family;
  address->prefix_length = header.ifa_prefixlen;
  address->scope = header.ifa_scope;
  address->index = header.ifa_index;
  address->flags = header.ifa_flags;
  AttrView views[std::size(kAddressPolicy)];
  const size_t fixed = NLMSG_ALIGN(sizeof(header));
  if (!ParseAttributes(payload + fixed, size - fixed, NLMSG_HDRLEN + fixed, header.ifa_family, kAddressPolicy, views, why)) return false;
  // IPv4 puts the interface's own address in IFA_LOCAL (IFA_ADDRESS is the
  // peer on point-to-point links); IPv6 sends only IFA_ADDRESS.
  const AttrView& own = views[kAddrLocal].present() ? views[kAddrLocal] : views[kAddrAddress];
  if (own.present()) address->address = ReadAddress(own, header.ifa_family);
  if (views[kAddrLabel].present()) address->label = ReadString(views[kAddrLabel]);
  if (views[kAddrFlags].present()) address->flags = ReadU32(views[kAddrFlags]);
  if (views[kAddrCacheInfo].present()) {
    ifa_cacheinfo lifetimes;
    memcpy(&lifetimes, views[kAddrCacheInfo].data, sizeof(lifetimes));
    address->preferred_lifetime = lifetimes.ifa_prefered;
    address->valid_lifetime = lifetimes.ifa_valid;
  }
  return true;
}

bool DecodeRoute(const uint8_t* payload, size_t size, Route* route, std::string* why) {
  rtmsg header;
  if (size < sizeof(header)) {
    *why = "route message shorter than rtmsg";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  if (AddressSize(header.rtm_family) == 0) return false;
  if (!CheckPrefix("rtm_dst_len", header.rtm_dst_len, header.rtm_family, why)) return false;
  if (!CheckPrefix("rtm_src_len", header.rtm_src_len, header.rtm_family, why)) return false;
  route->family = header.rtm_family;
  route->destination_length = header.rtm_dst_len;
  route->source_length = header.rtm_src_len;
  route->tos = header.rtm_tos;
  route->protocol = header.rtm_protocol;
  route->scope = header.rtm_scope;
  route->type = header.rtm_type;
  route->flags = header.rtm_flags;
  route->table = header.rtm_table;
  AttrView views[std::size(kRoutePolicy)];
  const size_t fixed = NLMSG_ALIGN(sizeof(header));
  if (!ParseAttributes(payload + fixed, size - fixed, NLMSG_HDRLEN + fixed, header.rtm_family, kRoutePolicy, views, why)) return false;
  if (views[kRouteDst].present()) route->destination = ReadAddress(views[kRouteDst], header.rtm_family);
  if (views[kRouteGateway].present()) route->gateway = ReadAddress(views[kRouteGateway], header.rtm_family);
  if (views[kRoutePrefsrc].present()) {
    route->preferred_source = ReadAddress(views[kRoutePrefsrc], header.rtm_family);
  }
  if (views[kRouteOif].present()) route->output_index = ReadU32(views[kRouteOif]);
  route->has_priority = views[kRoutePriority].present();
  if (route->has_priority) route->priority = ReadU32(views[kRoutePriority]);
  if (views[kRouteTable].present()) route->table = ReadU32(views[kRouteTable]);
  return true;
}

bool DecodeRule(const uint8_t* payload, size_t size, Rule* rule, std::string* why) {
  fib_rule_hdr header;
  if (size < sizeof(header)) {
    *why = "rule message shorter than fib_rule_hdr";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  if (AddressSize(header.family) == 0) return false;
  if (!CheckPrefix("src_len", header.src_len, header.family, why)) return false;
  if (!CheckPrefix("dst_len", header.dst_len, header.family, why)) return false;
  rule->family = header.family;
  rule->destination_length = header.dst_len;
  rule->source_length = header.src_len;
  rule->tos = header.tos;
  rule->action = header.action;
  rule->flags = header.flags;
  rule->table = header.table;
  AttrView views[std::size(kRulePolicy)];
  const size_t fixed = NLMSG_ALIGN(sizeof(header));
  if (!ParseAttributes(payload + fixed, size - fixed, NLMSG_HDRLEN + fixed, header.family, kRulePolicy, views, why)) return false;
  if (views[kRuleSrc].present()) rule->source = ReadAddress(views[kRuleSrc], header.family);
  if (views[kRuleDst].present()) rule->destination = ReadAddress(views[kRuleDst], header.family);
  rule->has_priority = views[kRulePriority].present();
  if (rule->has_priority) rule->priority = ReadU32(views[kRulePriority]);
  if (views[kRuleTable].present()) rule->table = ReadU32(views[kRuleTable]);
  return true;
}

// Returns false with an empty *why for families other than IPv4/IPv6 (the
// bridge's forwarding database also speaks RTM_NEWNEIGH, as AF_BRIDGE).
bool DecodeNeighbour(const uint8_t* payload, size_t size, Neighbour* neighbour, std::string* why) {
  ndmsg header;
  if (size < sizeof(header)) {
    *why = "neighbour message shorter than ndmsg";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  if (AddressSize(header.ndm_family) == 0) return false;
  neighbour->family = header.ndm_family;
  neighbour->index = static_cast<uint32_t>(header.ndm_ifindex);
  neighbour->state = header.ndm_state;
  neighbour->flags = header.ndm_flags;
  AttrView views[std::size(kNeighbourPolicy)];
  const size_t fixed = NLMSG_ALIGN(sizeof(header));
  if (!ParseAttributes(payload + fixed, size - fixed, NLMSG_HDRLEN + fixed, header.ndm_family, kNeighbourPolicy, views, why)) return false;
  if (views[kNeighbourDst].present()) neighbour->destination = ReadAddress(views[kNeighbourDst], header.ndm_family);
  const AttrView& lladdr = views[kNeighbourLladdr];
  if (lladdr.present()) neighbour->lladdr.assign(lladdr.data, lladdr.data + lladdr.size);
  return true;
}

// A refusal as NLMSG_ERROR and NLMSG_DONE carry it.
struct Status {
  int error = 0;  // positive errno
  std::string message;
  bool has_offset = false;
  uint32_t offset = 0;
};

// The extended-ACK attributes (NETLINK_EXT_ACK) in data[0, size), at byte
// `base` of the message. The one parser of them, for NLMSG_ERROR and NLMSG_DONE.
bool DecodeExtAck(const uint8_t* data, size_t size, size_t base, Status* status, std::string* why) {
  AttrView views[std::size(kExtAckPolicy)];
  if (!ParseAttributes(data, size, base, AF_UNSPEC, kExtAckPolicy, views, why)) return false;
  if (views[kExtAckMsg].present()) status->message = ReadString(views[kExtAckMsg]);
  status->has_offset = views[kExtAckOffset].present();
  if (status->has_offset) status->offset = ReadU32(views[kExtAckOffset]);
  return true;
}

// NLMSG_ERROR: a struct nlmsgerr, the echoed request (all of it unless
// NLM_F_CAPPED), then extended-ACK attributes when NLM_F_ACK_TLVS is set.
// Error 0 is the ACK.
bool DecodeError(const uint8_t* payload, size_t size, uint16_t flags, Status* status, std::string* why) {
  nlmsgerr header;
  if (size < sizeof(header)) {
    *why = "NLMSG_ERROR shorter than nlmsgerr";
    return false;
  }
  memcpy(&header, payload, sizeof(header));
  if (header.error > 0 || header.error < -4095) {
    *why = "NLMSG_ERROR carries error " + std::to_string(header.error);
    return false;
  }
  status->error = -header.error;
  if (!(flags & NLM_F_ACK_TLVS)) return true;
  size_t offset = sizeof(header);
  if (!(flags & NLM_F_CAPPED)) {
    if (header.msg.nlmsg_len < NLMSG_HDRLEN) {
      *why = "NLMSG_ERROR echoes a request shorter than nlmsghdr";
      return false;
    }
    offset = NLMSG_ALIGN(sizeof(header.error) + size_t{header.msg.nlmsg_len});
  }
  if (offset > size) {
    *why = "NLMSG_ERROR echoes more of the request than it holds";
    return false;
  }
  return DecodeExtAck(payload + offset, size - offset, NLMSG_HDRLEN + offset, status, why);
}

// NLMSG_DONE: an int, the dump's error when it failed part-way (negative
// errno), then extended-ACK attributes when NLM_F_ACK_TLVS is set.
bool DecodeDone(const uint8_t* payload, size_t size, uint16_t flags, Status* status, std::string* why) {
  int code = 0;
  if (size < sizeof(code)) return true;  // old kernels: no payload
  memcpy(&code, payload, sizeof(code));
  if (code < 0 && code >= -4095) status->error = -code;
  if (!(flags & NLM_F_ACK_TLVS)) return true;
  return DecodeExtAck(payload + sizeof(code), size - sizeof(code), NLMSG_HDRLEN + sizeof(code), status, why);
}

void CopyStatus(const Status& status, Message* out) {
  out->error = status.error;
  out->error_message = status.message;
  out->has_error_offset = status.has_offset;
  out->error_offset = status.offset;
}

// The framing of a datagram, one message at a time: the header at *offset
// fits, and so does its nlmsg_len. Advances *offset past the message and its
// padding. The one walker, for DecodeMessages and RunReplies.
bool NextMessage(const uint8_t* data, size_t size, size_t* offset, nlmsghdr* header, std::string* why) {
  const size_t left = size - *offset;
  if (left < sizeof(*header)) {
    *why = "offset " + std::to_string(*offset) + ": " + std::to_string(left) + " trailing bytes";
    return false;
  }
  memcpy(header, data + *offset, sizeof(*header));
  if (header->nlmsg_len < NLMSG_HDRLEN || header->nlmsg_len > left) {
    *why = "offset " + std::to_string(*offset) + ": nlmsg_len " + std::to_string(header->nlmsg_len) + " with " +
           std::to_string(left) + " bytes left";
    return false;
  }
  const size_t step = NLMSG_ALIGN(header->nlmsg_len);
  *offset = step > left ? size : *offset + step;
  return true;
}

std::string AtOffset(size_t offset, uint16_t type, const std::string& reason) {
  return "offset " + std::to_string(offset) + " (" + MessageTypeName(type) + "): " + reason;
}

}  // namespace

bool DecodeMessage(const uint8_t* data, size_t size, Message* out, std::string* why) {
  nlmsghdr header;
  if (size < sizeof(header)) {
    *why = "message shorter than nlmsghdr";
    return false;
  }
  memcpy(&header, data, sizeof(header));
  if (header.nlmsg_len != size) {
    *why = "nlmsg_len " + std::to_string(header.nlmsg_len) + " does not match the " + std::to_string(size) +
           "-byte message";
    return false;
  }
  *out = Message();
  out->type = header.nlmsg_type;
  out->flags = header.nlmsg_flags;
  out->seq = header.nlmsg_seq;
  out->port = header.nlmsg_pid;
  const uint8_t* payload = data + NLMSG_HDRLEN;
  const size_t payload_size = size - NLMSG_HDRLEN;

  // A decoder returns false with an empty *why for a family it does not speak:
  // the message is well formed, just not ours, so it becomes kOther.
  auto decoded = [&](bool ok, Message::Kind kind) {
    if (ok) {
      out->kind = kind;
      return true;
    }
    if (!why->empty()) return false;
    out->kind = Message::Kind::kOther;
    return true;
  };
  why->clear();
  switch (header.nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      out->removed = header.nlmsg_type == RTM_DELLINK;
      return decoded(DecodeLink(payload, payload_size, &out->link, why), Message::Kind::kLink);
    case RTM_NEWADDR:
    case RTM_DELADDR:
      out->removed = header.nlmsg_type == RTM_DELADDR;
      return decoded(DecodeAddress(payload, payload_size, &out->address, why), Message::Kind::kAddress);
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      out->removed = header.nlmsg_type == RTM_DELROUTE;
      return decoded(DecodeRoute(payload, payload_size, &out->route, why), Message::Kind::kRoute);
    case RTM_NEWRULE:
    case RTM_DELRULE:
      out->removed = header.nlmsg_type == RTM_DELRULE;
      return decoded(DecodeRule(payload, payload_size, &out->rule, why), Message::Kind::kRule);
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
      out->removed = header.nlmsg_type == RTM_DELNEIGH;
      return decoded(DecodeNeighbour(payload, payload_size, &out->neighbour, why), Message::Kind::kNeighbour);
    case NLMSG_ERROR: {
      Status status;
      if (!DecodeError(payload, payload_size, header.nlmsg_flags, &status, why)) return false;
      out->kind = status.error == 0 ? Message::Kind::kAck : Message::Kind::kError;
      CopyStatus(status, out);
      return true;
    }
    case NLMSG_DONE: {
      Status status;
      if (!DecodeDone(payload, payload_size, header.nlmsg_flags, &status, why)) return false;
      out->kind = Message::Kind::kDone;
      CopyStatus(status, out);
      return true;
    }
    default:
      out->kind = Message::Kind::kOther;
      return true;
  }
}

bool DecodeMessages(const uint8_t* data, size_t size, std::vector<Message>* out, std::string* why) {
  size_t offset = 0;
  while (offset < size) {
    const size_t at = offset;
    nlmsghdr header;
    if (!NextMessage(data, size, &offset, &header, why)) return false;
    Message message;
    std::string reason;
    if (!DecodeMessage(data + at, header.nlmsg_len, &message, &reason)) {
      *why = AtOffset(at, header.nlmsg_type, reason);
      return false;
    }
    out->push_back(std::move(message));
  }
  return true;
}

Progress RunReplies(const uint8_t* data, size_t size, uint32_t seq, Until until, const DataCallback& on_data,
                    ReplyState* state) {
  const auto malformed = [state](std::string why) {
    state->malformed = true;
    state->why = std::move(why);
    return Progress::kFailed;
  };
  size_t offset = 0;
  while (offset < size) {
    const size_t at = offset;
    nlmsghdr header;
    std::string why;
    if (!NextMessage(data, size, &offset, &header, &why)) return malformed(why);
    if (header.nlmsg_seq != seq) continue;
    if (header.nlmsg_flags & NLM_F_DUMP_INTR) state->interrupted = true;
    const uint8_t* payload = data + at + NLMSG_HDRLEN;
    const size_t payload_size = header.nlmsg_len - NLMSG_HDRLEN;
    if (header.nlmsg_type >= NLMSG_MIN_TYPE) {
      if (on_data && !on_data(data + at, header.nlmsg_len, &why)) return malformed(AtOffset(at, header.nlmsg_type, why));
      continue;
    }
    if (header.nlmsg_type != NLMSG_ERROR && header.nlmsg_type != NLMSG_DONE) continue;  // NOOP, OVERRUN
    Status status;
    const bool ok = header.nlmsg_type == NLMSG_ERROR
                        ? DecodeError(payload, payload_size, header.nlmsg_flags, &status, &why)
                        : DecodeDone(payload, payload_size, header.nlmsg_flags, &status, &why);
    if (!ok) return malformed(AtOffset(at, header.nlmsg_type, why));
    if (status.error != 0) {
      state->error = status.error;
      state->message = std::move(status.message);
      state->has_offset = status.has_offset;
      state->offset = status.offset;
      return Progress::kFailed;
    }
    if ((header.nlmsg_type == NLMSG_ERROR) == (until == Until::kAck)) return Progress::kDone;
  }
  return Progress::kMore;
}

// ===========================================================================
// Names

const char* OperstateName(uint8_t operstate) {
  static const char* const kNames[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                       "testing", "dormant",    "up"};
  return operstate < std::size(kNames) ? kNames[operstate] : "";
}

const char* AddressScopeName(uint8_t scope) {
  switch (scope) {
    case RT_SCOPE_UNIVERSE: return "global";
    case RT_SCOPE_SITE: return "site";
    case RT_SCOPE_LINK: return "link";
    case RT_SCOPE_HOST: return "host";
    case RT_SCOPE_NOWHERE: return "nowhere";
    default: return "";
  }
}

const char* RouteScopeName(uint8_t scope) {
  return scope == RT_SCOPE_UNIVERSE ? "universe" : AddressScopeName(scope);
}

const char* RouteTypeName(uint8_t type) {
  static const char* const kNames[] = {"unspec",    "unicast",     "local",      "broadcast",
                                       "anycast",   "multicast",   "blackhole",  "unreachable",
                                       "prohibit",  "throw",       "nat",        "xresolve"};
  return type < std::size(kNames) ? kNames[type] : "";
}

const char* RuleActionName(uint8_t action) {
  switch (action) {
    case FR_ACT_TO_TBL: return "lookup";
    case FR_ACT_GOTO: return "goto";
    case FR_ACT_NOP: return "nop";
    case FR_ACT_BLACKHOLE: return "blackhole";
    case FR_ACT_UNREACHABLE: return "unreachable";
    case FR_ACT_PROHIBIT: return "prohibit";
    default: return "";
  }
}

const char* MessageTypeName(uint16_t type) {
  switch (type) {
    case NLMSG_NOOP: return "NLMSG_NOOP";
    case NLMSG_ERROR: return "NLMSG_ERROR";
    case NLMSG_DONE: return "NLMSG_DONE";
    case NLMSG_OVERRUN: return "NLMSG_OVERRUN";
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_DELLINK: return "RTM_DELLINK";
    case RTM_GETLINK: return "RTM_GETLINK";
    case RTM_NEWADDR: return "RTM_NEWADDR";
    case RTM_DELADDR: return "RTM_DELADDR";
    case RTM_GETADDR: return "RTM_GETADDR";
    case RTM_NEWROUTE: return "RTM_NEWROUTE";
    case RTM_DELROUTE: return "RTM_DELROUTE";
    case RTM_GETROUTE: return "RTM_GETROUTE";
    case RTM_NEWRULE: return "RTM_NEWRULE";
    case RTM_DELRULE: return "RTM_DELRULE";
    case RTM_NEWNEIGH: return "RTM_NEWNEIGH";
    case RTM_DELNEIGH: return "RTM_DELNEIGH";
    case RTM_GETRULE: return "RTM_GETRULE";
    default: return "netlink message";
  }
}

}  // namespace netlink
}  // namespace vip
