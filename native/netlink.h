// rtnetlink message codec: builds complete request messages and decodes the
// kernel's replies and notifications into plain structs.
//
// Pure functions over bytes, no Node types and no syscalls, so the codec can be
// unit-tested, fuzzed (native/fuzz/) and run under sanitizers without root.
// Every decoder treats its input as hostile: lengths are checked before every
// read and nothing is read through a misaligned pointer.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <functional>
#include <string>
#include <vector>

namespace vip {
namespace netlink {

using Bytes = std::vector<uint8_t>;

// kReplace (addresses only): RTM_NEWADDR with NLM_F_CREATE | NLM_F_REPLACE, which
// sets the attributes (the lifetimes) of an existing address or adds it.
enum class Op { kAdd, kDelete, kReplace };

// IFA_CACHEINFO's (and our) value for "no expiry".
constexpr uint32_t kForever = 0xFFFFFFFFu;

// An IPv4 or IPv6 address in network byte order; family 0 means "absent".
struct IpAddress {
  uint8_t family = 0;  // 0, AF_INET or AF_INET6
  uint8_t bytes[16] = {};

  bool present() const { return family != 0; }
  size_t size() const { return family == AF_INET6 ? 16 : family == AF_INET ? 4 : 0; }
};

// Bytes per address of a family, 0 for families this codec does not speak.
size_t AddressSize(uint8_t family);

// ---------------------------------------------------------------------------
// Requests. The caller (the binding) has validated the fields; the encoders
// only lay them out. The returned message has seq 0 and port 0: NlSocket fills
// both in when it sends (and adds NLM_F_ACK), so bytes built now can be
// replayed later by another process (the guard).

struct AddressRequest {
  uint32_t index = 0;  // ifindex
  uint8_t prefix_length = 0;
  IpAddress address;   // IFA_LOCAL and IFA_ADDRESS (no point-to-point peers)
  std::string label;   // IFA_LABEL, IPv4 only; empty: none
  bool nodad = false;  // IFA_F_NODAD through IFA_FLAGS
  bool has_lifetimes = false;  // IFA_CACHEINFO
  uint32_t preferred_lifetime = kForever;  // seconds
  uint32_t valid_lifetime = kForever;
};

struct RouteRequest {
  uint8_t family = AF_INET;
  uint32_t table = 254;  // RT_TABLE_MAIN; ids above 255 travel in RTA_TABLE
  IpAddress destination;  // absent for a default route
  uint8_t destination_length = 0;
  IpAddress gateway;            // RTA_GATEWAY
  uint32_t output_index = 0;    // RTA_OIF; 0: none
  uint8_t scope = 0;            // RT_SCOPE_*; RT_SCOPE_NOWHERE in a delete matches any
  IpAddress preferred_source;   // RTA_PREFSRC
  uint8_t protocol = 4;         // RTPROT_*; 0 in a delete matches any
  uint8_t type = 1;             // RTN_UNICAST; 0 in a delete matches any
  bool onlink = false;          // RTNH_F_ONLINK
  bool has_priority = false;    // RTA_PRIORITY (the metric)
  uint32_t priority = 0;
};

struct RuleRequest {
  uint8_t family = AF_INET;
  IpAddress source;  // FRA_SRC; absent: "from all"
  uint8_t source_length = 0;
  uint32_t table = 0;
  uint32_t priority = 0;  // FRA_PRIORITY
};

// RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL: adding an existing address is EEXIST) or RTM_DELADDR.
Bytes EncodeAddressRequest(Op op, const AddressRequest& request);
// RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELROUTE.
Bytes EncodeRouteRequest(Op op, const RouteRequest& request);
// RTM_NEWRULE (NLM_F_CREATE|NLM_F_EXCL, action FR_ACT_TO_TBL) or RTM_DELRULE.
Bytes EncodeRuleRequest(Op op, const RuleRequest& request);

// RTM_GETLINK for one link, by index or by name (IFLA_IFNAME).
Bytes EncodeGetLinkByIndex(uint32_t index);
Bytes EncodeGetLinkByName(const std::string& name);

// Dump requests (NlSocket::Dump adds NLM_F_DUMP). With strict checking on, the
// kernel filters addresses by ifindex and routes by table itself.
Bytes EncodeLinkDump();
Bytes EncodeAddressDump(uint8_t family, uint32_t index);
Bytes EncodeRouteDump(uint8_t family, uint32_t table);
Bytes EncodeRuleDump(uint8_t family);

// ---------------------------------------------------------------------------
// Decoded messages.

struct Link {
  uint8_t family = 0;   // AF_UNSPEC for the link itself; AF_BRIDGE for bridge-port views
  uint16_t type = 0;    // ARPHRD_*
  uint32_t index = 0;
  uint32_t flags = 0;   // IFF_*
  uint32_t change = 0;  // ifi_change: ~0 when the link was just created
  std::string name;     // IFLA_IFNAME
  Bytes mac;            // IFLA_ADDRESS, any length (Ethernet 6, InfiniBand 20)
  bool has_mtu = false;
  uint32_t mtu = 0;
  uint8_t operstate = 0;  // IF_OPER_*
};

struct Address {
  uint8_t family = 0;
  uint8_t prefix_length = 0;
  uint8_t scope = 0;
  uint32_t index = 0;
  uint32_t flags = 0;   // IFA_F_*, from IFA_FLAGS when present (it has the high bits)
  IpAddress address;    // IFA_LOCAL when present (IPv4), else IFA_ADDRESS (IPv6)
  std::string label;
  uint32_t preferred_lifetime = kForever;
  uint32_t valid_lifetime = kForever;
};

struct Route {
  uint8_t family = 0;
  uint8_t destination_length = 0;
  uint8_t source_length = 0;
  uint8_t tos = 0;
  uint8_t protocol = 0;
  uint8_t scope = 0;
  uint8_t type = 0;
  uint32_t flags = 0;   // rtm_flags (RTNH_F_ONLINK, ...)
  uint32_t table = 0;   // RTA_TABLE when present, else rtm_table
  IpAddress destination;
  IpAddress gateway;
  IpAddress preferred_source;
  uint32_t output_index = 0;
  bool has_priority = false;
  uint32_t priority = 0;
};

struct Rule {
  uint8_t family = 0;
  uint8_t destination_length = 0;
  uint8_t source_length = 0;
  uint8_t tos = 0;
  uint8_t action = 0;  // FR_ACT_*
  uint32_t flags = 0;
  uint32_t table = 0;  // FRA_TABLE when present, else the header's table
  IpAddress source;
  IpAddress destination;
  bool has_priority = false;
  uint32_t priority = 0;
};

// A neighbour (ARP / NDP) cache entry, RTM_NEWNEIGH / RTM_DELNEIGH.
struct Neighbour {
  uint8_t family = 0;
  uint32_t index = 0;
  uint16_t state = 0;   // NUD_*
  uint8_t flags = 0;    // NTF_*
  IpAddress destination;  // NDA_DST
  Bytes lladdr;           // NDA_LLADDR; empty while unresolved
};

struct Message {
  enum class Kind { kLink, kAddress, kRoute, kRule, kNeighbour, kAck, kError, kDone, kOther };
  Kind kind = Kind::kOther;
  uint16_t type = 0;  // nlmsg_type (RTM_NEWLINK, NLMSG_ERROR, ...)
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t port = 0;
  bool removed = false;  // RTM_DEL*
  Link link;
  Address address;
  Route route;
  Rule rule;
  Neighbour neighbour;
  // kError, and kDone when a dump failed part-way: positive errno (0 otherwise).
  int error = 0;
  std::string error_message;      // the extended ACK's NLMSGERR_ATTR_MSG, if any
  bool has_error_offset = false;  // NLMSGERR_ATTR_OFFS: where in the request the
  uint32_t error_offset = 0;      // kernel found the attribute it refused
};

// Decodes one message occupying exactly data[0, size) (size == nlmsg_len).
// Families other than IPv4/IPv6 for addresses, routes and rules, and unknown
// message types, decode as Kind::kOther. Returns false with *why on a
// malformed message; *out is then unspecified.
bool DecodeMessage(const uint8_t* data, size_t size, Message* out, std::string* why);

// Decodes a whole datagram (a batch of messages). All or nothing: returns false
// with *why naming the offset of the first malformed message.
bool DecodeMessages(const uint8_t* data, size_t size, std::vector<Message>* out, std::string* why);

// ---------------------------------------------------------------------------
// The reply loop: the one place that reads control messages (NLMSG_ERROR,
// NLMSG_DONE, NLM_F_DUMP_INTR) in replies to our requests, as libmnl's
// mnl_cb_run does. NlSocket runs every received datagram through it, for the
// guard's changes and for the binding's gets and dumps alike.

// What ends an exchange: the ACK of a request (NLM_F_ACK), or NLMSG_DONE of a dump.
enum class Until { kAck, kDone };

// Where an exchange stands after a datagram.
enum class Progress { kMore, kDone, kFailed };

// What the loop learnt so far; carried from datagram to datagram.
struct ReplyState {
  // kFailed: the kernel's refusal (NACK, or an error in NLMSG_DONE) ...
  int error = 0;              // positive errno
  std::string message;        // NLMSGERR_ATTR_MSG, or ""
  bool has_offset = false;    // NLMSGERR_ATTR_OFFS
  uint32_t offset = 0;
  // ... or a reply this codec cannot read (error 0, why says what).
  bool malformed = false;
  std::string why;
  // NLM_F_DUMP_INTR on any reply: the kernel's tables changed mid-dump, so
  // the dump is not a consistent snapshot. The loop still reads to the end
  // (the socket must be drained); asking again is the caller's decision.
  bool interrupted = false;
};

// Called with each data message (type >= NLMSG_MIN_TYPE) answering `seq`,
// whole (data[0, size), size == nlmsg_len). Returns false with *why when it
// cannot read the message: the loop then fails as malformed.
using DataCallback = std::function<bool(const uint8_t* data, size_t size, std::string* why)>;

// Runs the messages of one received datagram. Messages with another sequence
// number (notifications, late replies to an exchange that timed out) are
// skipped after their framing is checked; NLMSG_NOOP and NLMSG_OVERRUN are
// skipped. NLMSG_ERROR with error 0 is the ACK: kDone when `until` is kAck.
// NLMSG_DONE is kDone when `until` is kDone. A NACK, an error in NLMSG_DONE or
// a malformed message is kFailed, with *state saying which. `on_data` may be
// empty (a change expects no data). Messages after the one that ends the
// exchange are not looked at.
Progress RunReplies(const uint8_t* data, size_t size, uint32_t seq, Until until, const DataCallback& on_data,
                    ReplyState* state);

// ---------------------------------------------------------------------------
// Names for numbers, as iproute2 prints them (numbers it does not know: "").
const char* OperstateName(uint8_t operstate);   // "up", "lowerlayerdown", ...
const char* AddressScopeName(uint8_t scope);    // "global", "link", "host", ...
const char* RouteScopeName(uint8_t scope);      // "universe", "link", ...
const char* RouteTypeName(uint8_t type);        // "unicast", "local", ...
const char* RuleActionName(uint8_t action);     // "lookup", "goto", ...
const char* MessageTypeName(uint16_t type);     // "RTM_NEWADDR", ...

}  // namespace netlink
}  // namespace vip
