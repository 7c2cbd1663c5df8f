// The rtnetlink codec (native/netlink.cc): request layouts checked field by
// field against the kernel's structs, encode -> decode round trips, refusal of
// malformed input with a reason, and the reply loop (RunReplies) that reads
// ACKs, NACKs with their extended ACK, NLMSG_DONE and NLM_F_DUMP_INTR.
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <map>
#include <string>
#include <vector>

#include "../netlink.h"
#include "test.h"

using namespace vip::netlink;

namespace {

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress address;
  address.family = AF_INET;
  const uint8_t bytes[] = {a, b, c, d};
  memcpy(address.bytes, bytes, 4);
  return address;
}

// 2001:db8::<last>
IpAddress V6(uint8_t last) {
  IpAddress address;
  address.family = AF_INET6;
  const uint8_t bytes[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  memcpy(address.bytes, bytes, 16);
  return address;
}

bool Same(const IpAddress& a, const IpAddress& b) {
  return a.family == b.family && memcmp(a.bytes, b.bytes, sizeof(a.bytes)) == 0;
}

nlmsghdr Header(const Bytes& message) {
  nlmsghdr header;
  memcpy(&header, message.data(), sizeof(header));
  return header;
}

template <typename Fixed>
Fixed FixedPart(const Bytes& message) {
  Fixed fixed;
  memcpy(&fixed, message.data() + NLMSG_HDRLEN, sizeof(fixed));
  return fixed;
}

// The attributes after a fixed header of `fixed` bytes, by type, walked
// independently of the decoder under test.
std::map<uint16_t, Bytes> Attributes(const Bytes& message, size_t fixed) {
  std::map<uint16_t, Bytes> attrs;
  size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
  while (offset + NLA_HDRLEN <= message.size()) {
    nlattr attr;
    memcpy(&attr, message.data() + offset, sizeof(attr));
    if (attr.nla_len < NLA_HDRLEN || offset + attr.nla_len > message.size()) break;
    attrs[attr.nla_type] = Bytes(message.begin() + offset + NLA_HDRLEN, message.begin() + offset + attr.nla_len);
    offset += NLA_ALIGN(attr.nla_len);
  }
  return attrs;
}

Bytes U32Bytes(uint32_t value) {
  Bytes bytes(4);
  memcpy(bytes.data(), &value, 4);
  return bytes;
}

Bytes AddressBytes(const IpAddress& address) { return Bytes(address.bytes, address.bytes + address.size()); }

// Builds a message by hand (for shapes no encoder makes): header, fixed part,
// then attributes, each padded to 4 bytes; nlmsg_len written last.
class Raw {
 public:
  Raw(uint16_t type, uint16_t flags = 0) {
    bytes_.resize(NLMSG_HDRLEN);
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = 7;
    memcpy(bytes_.data(), &header, sizeof(header));
  }
  template <typename T>
  Raw& Fixed(const T& fixed) {
    return Append(&fixed, sizeof(fixed));
  }
  Raw& Attr(uint16_t type, const Bytes& payload, uint16_t claimed_length = 0) {
    nlattr attr{};
    attr.nla_type = type;
    attr.nla_len = claimed_length != 0 ? claimed_length : static_cast<uint16_t>(NLA_HDRLEN + payload.size());
    Append(&attr, sizeof(attr));
    return Append(payload.data(), payload.size());
  }
  Raw& Seq(uint32_t seq) {
    memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof(seq));
    return *this;
  }
  Bytes Finish() {
    const uint32_t length = static_cast<uint32_t>(bytes_.size());
    memcpy(bytes_.data(), &length, 4);
    return bytes_;
  }

 private:
  Raw& Append(const void* data, size_t size) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
    return *this;
  }
  Bytes bytes_;
};

bool DecodeOne(const Bytes& bytes, Message* message, std::string* why) {
  return DecodeMessage(bytes.data(), bytes.size(), message, why);
}

Message MustDecode(const Bytes& bytes) {
  Message message;
  std::string why;
  if (!DecodeOne(bytes, &message, &why)) {
    vip_test::Fail(__FILE__, __LINE__, "decode failed: " + why);
    throw vip_test::Stop();
  }
  return message;
}

std::string Refusal(const Bytes& bytes) {
  std::vector<Message> messages;
  std::string why;
  if (DecodeMessages(bytes.data(), bytes.size(), &messages, &why)) return "";
  return why.empty() ? "(refused without a reason)" : why;
}

const Bytes kBoom = {'b', 'o', 'o', 'm', 0};

}  // namespace

TEST(AddressRequestV4Layout) {
  AddressRequest request;
  request.index = 2;
  request.prefix_length = 24;
  request.address = V4(192, 0, 2, 10);
  request.label = "eth0:vip";
  const Bytes message = EncodeAddressRequest(Op::kAdd, request);
  const nlmsghdr header = Header(message);
  CHECK_EQ(header.nlmsg_len, message.size());
  CHECK_EQ(header.nlmsg_type, RTM_NEWADDR);
  CHECK_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  CHECK_EQ(header.nlmsg_seq, 0u);  // NlSocket fills seq in when it sends
  const ifaddrmsg fixed = FixedPart<ifaddrmsg>(message);
  CHECK_EQ(fixed.ifa_family, AF_INET);
  CHECK_EQ(fixed.ifa_prefixlen, 24);
  CHECK_EQ(fixed.ifa_index, 2u);
  CHECK_EQ(fixed.ifa_scope, RT_SCOPE_UNIVERSE);
  auto attrs = Attributes(message, sizeof(ifaddrmsg));
  CHECK_EQ(attrs[IFA_LOCAL], AddressBytes(request.address));
  CHECK_EQ(attrs[IFA_ADDRESS], AddressBytes(request.address));
  CHECK_EQ(attrs[IFA_LABEL], Bytes({'e', 't', 'h', '0', ':', 'v', 'i', 'p', 0}));
  CHECK(attrs.count(IFA_FLAGS) == 0);      // no IFA_F_NODAD asked for
  CHECK(attrs.count(IFA_CACHEINFO) == 0);  // no lifetimes asked for
  CHECK_EQ(message.size() % 4, 0u);
}

TEST(AddressRequestV6RoundTrip) {
  AddressRequest request;
  request.index = 7;
  request.prefix_length = 64;
  request.address = V6(0x10);
  request.nodad = true;
  request.has_lifetimes = true;
  request.preferred_lifetime = 100;
  request.valid_lifetime = 200;
  const Message m = MustDecode(EncodeAddressRequest(Op::kAdd, request));
  CHECK(m.kind == Message::Kind::kAddress);
  CHECK(!m.removed);
  CHECK_EQ(m.address.family, AF_INET6);
  CHECK_EQ(m.address.prefix_length, 64);
  CHECK_EQ(m.address.index, 7u);
  CHECK(Same(m.address.address, request.address));
  CHECK_EQ(m.address.flags & IFA_F_NODAD, static_cast<uint32_t>(IFA_F_NODAD));
  CHECK_EQ(m.address.preferred_lifetime, 100u);
  CHECK_EQ(m.address.valid_lifetime, 200u);
}

TEST(AddressReplaceAsksCreateReplace) {
  AddressRequest request;
  request.index = 3;
  request.prefix_length = 32;
  request.address = V4(198, 51, 100, 7);
  request.has_lifetimes = true;
  request.valid_lifetime = 30;
  const Bytes message = EncodeAddressRequest(Op::kReplace, request);
  CHECK_EQ(Header(message).nlmsg_type, RTM_NEWADDR);
  CHECK_EQ(Header(message).nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
  auto attrs = Attributes(message, sizeof(ifaddrmsg));
  REQUIRE(attrs[IFA_CACHEINFO].size() == sizeof(ifa_cacheinfo));
  ifa_cacheinfo lifetimes;
  memcpy(&lifetimes, attrs[IFA_CACHEINFO].data(), sizeof(lifetimes));
  CHECK_EQ(lifetimes.ifa_valid, 30u);
  CHECK_EQ(lifetimes.ifa_prefered, kForever);
}

TEST(AddressDeleteCarriesNoLifetimes) {
  AddressRequest request;
  request.index = 3;
  request.prefix_length = 32;
  request.address = V4(198, 51, 100, 7);
  request.has_lifetimes = true;
  const Bytes message = EncodeAddressRequest(Op::kDelete, request);
  CHECK_EQ(Header(message).nlmsg_type, RTM_DELADDR);
  CHECK_EQ(Header(message).nlmsg_flags, NLM_F_REQUEST);
  CHECK(Attributes(message, sizeof(ifaddrmsg)).count(IFA_CACHEINFO) == 0);
  const Message m = MustDecode(message);
  CHECK(m.removed);
  CHECK_EQ(m.address.valid_lifetime, kForever);
}

TEST(RouteLargeTableTravelsInAttribute) {
  RouteRequest request;
  request.table = 70000;
  request.gateway = V4(192, 0, 2, 1);
  request.output_index = 3;
  request.has_priority = true;
  request.priority = 10;
  request.onlink = true;
  const Bytes message = EncodeRouteRequest(Op::kAdd, request);
  CHECK_EQ(Header(message).nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  const rtmsg fixed = FixedPart<rtmsg>(message);
  CHECK_EQ(fixed.rtm_table, RT_TABLE_UNSPEC);
  CHECK_EQ(fixed.rtm_flags, static_cast<unsigned>(RTNH_F_ONLINK));
  auto attrs = Attributes(message, sizeof(rtmsg));
  CHECK_EQ(attrs[RTA_TABLE], U32Bytes(70000));
  CHECK(attrs.count(RTA_DST) == 0);  // a default route names no destination
  const Message m = MustDecode(message);
  CHECK(m.kind == Message::Kind::kRoute);
  CHECK_EQ(m.route.table, 70000u);
  CHECK(Same(m.route.gateway, request.gateway));
  CHECK_EQ(m.route.output_index, 3u);
  CHECK(m.route.has_priority);
  CHECK_EQ(m.route.priority, 10u);
  CHECK_EQ(m.route.flags, static_cast<uint32_t>(RTNH_F_ONLINK));
  CHECK_EQ(m.route.protocol, request.protocol);
  CHECK_EQ(m.route.type, RTN_UNICAST);
}

TEST(RouteSmallTableStaysInHeader) {
  RouteRequest request;
  request.table = 100;
  request.destination = V4(203, 0, 113, 0);
  request.destination_length = 24;
  request.preferred_source = V4(203, 0, 113, 5);
  const Bytes message = EncodeRouteRequest(Op::kDelete, request);
  CHECK_EQ(Header(message).nlmsg_type, RTM_DELROUTE);
  CHECK_EQ(FixedPart<rtmsg>(message).rtm_table, 100);
  auto attrs = Attributes(message, sizeof(rtmsg));
  CHECK(attrs.count(RTA_TABLE) == 0);
  CHECK_EQ(attrs[RTA_DST], AddressBytes(request.destination));
  CHECK_EQ(attrs[RTA_PREFSRC], AddressBytes(request.preferred_source));
  const Message m = MustDecode(message);
  CHECK(m.removed);
  CHECK_EQ(m.route.table, 100u);
  CHECK_EQ(m.route.destination_length, 24);
  CHECK(Same(m.route.destination, request.destination));
  CHECK(!m.route.has_priority);
}

TEST(TableBoundaryAt256) {
  // 255 is the largest id rtm_table holds; 256 must travel in RTA_TABLE.
  RouteRequest route;
  route.table = 255;
  CHECK_EQ(FixedPart<rtmsg>(EncodeRouteRequest(Op::kAdd, route)).rtm_table, 255);
  CHECK(Attributes(EncodeRouteRequest(Op::kAdd, route), sizeof(rtmsg)).count(RTA_TABLE) == 0);
  route.table = 256;
  const Bytes message = EncodeRouteRequest(Op::kAdd, route);
  CHECK_EQ(FixedPart<rtmsg>(message).rtm_table, RT_TABLE_UNSPEC);
  auto attrs = Attributes(message, sizeof(rtmsg));
  CHECK_EQ(attrs[RTA_TABLE], U32Bytes(256));
  RuleRequest rule;
  rule.table = 256;
  auto rule_attrs = Attributes(EncodeRuleRequest(Op::kAdd, rule), sizeof(fib_rule_hdr));
  CHECK_EQ(rule_attrs[FRA_TABLE], U32Bytes(256));
}

TEST(RouteV6RoundTrip) {
  RouteRequest request;
  request.family = AF_INET6;
  request.table = 254;
  request.destination = V6(0);
  request.destination_length = 64;
  request.gateway = V6(1);
  request.output_index = 9;
  const Message m = MustDecode(EncodeRouteRequest(Op::kAdd, request));
  CHECK_EQ(m.route.family, AF_INET6);
  CHECK_EQ(m.route.destination_length, 64);
  CHECK(Same(m.route.destination, request.destination));
  CHECK(Same(m.route.gateway, request.gateway));
  CHECK_EQ(m.route.table, 254u);
  CHECK_EQ(m.route.output_index, 9u);
}

TEST(RuleRoundTrip) {
  RuleRequest request;
  request.source = V4(192, 0, 2, 100);
  request.source_length = 32;
  request.table = 100;
  request.priority = 1000;
  const Bytes message = EncodeRuleRequest(Op::kAdd, request);
  CHECK_EQ(Header(message).nlmsg_type, RTM_NEWRULE);
  const fib_rule_hdr fixed = FixedPart<fib_rule_hdr>(message);
  CHECK_EQ(fixed.action, FR_ACT_TO_TBL);
  CHECK_EQ(fixed.table, 100);
  const Message m = MustDecode(message);
  CHECK(m.kind == Message::Kind::kRule);
  CHECK(Same(m.rule.source, request.source));
  CHECK_EQ(m.rule.source_length, 32);
  CHECK(m.rule.has_priority);
  CHECK_EQ(m.rule.priority, 1000u);
  CHECK_EQ(m.rule.table, 100u);
  CHECK_EQ(m.rule.action, FR_ACT_TO_TBL);
}

TEST(RuleFromAllLargeTable) {
  RuleRequest request;
  request.family = AF_INET6;
  request.table = 4000;
  request.priority = 5;
  const Bytes message = EncodeRuleRequest(Op::kDelete, request);
  CHECK_EQ(Header(message).nlmsg_type, RTM_DELRULE);
  auto attrs = Attributes(message, sizeof(fib_rule_hdr));
  CHECK(attrs.count(FRA_SRC) == 0);
  CHECK_EQ(attrs[FRA_TABLE], U32Bytes(4000));
  CHECK_EQ(attrs[FRA_PRIORITY], U32Bytes(5));
  const Message m = MustDecode(message);
  CHECK(m.removed);
  CHECK(!m.rule.source.present());
  CHECK_EQ(m.rule.table, 4000u);
}

TEST(GetLinkRequests) {
  const Bytes by_name = EncodeGetLinkByName("eth0");
  CHECK_EQ(Header(by_name).nlmsg_type, RTM_GETLINK);
  CHECK_EQ(Header(by_name).nlmsg_flags, NLM_F_REQUEST);
  auto attrs = Attributes(by_name, sizeof(ifinfomsg));
  CHECK_EQ(attrs[IFLA_IFNAME], Bytes({'e', 't', 'h', '0', 0}));
  CHECK_EQ(attrs[IFLA_EXT_MASK], U32Bytes(RTEXT_FILTER_SKIP_STATS));
  const Bytes by_index = EncodeGetLinkByIndex(42);
  CHECK_EQ(FixedPart<ifinfomsg>(by_index).ifi_index, 42);
  CHECK(Attributes(by_index, sizeof(ifinfomsg)).count(IFLA_IFNAME) == 0);
}

TEST(DumpRequests) {
  const Bytes addresses = EncodeAddressDump(AF_INET6, 5);
  CHECK_EQ(Header(addresses).nlmsg_type, RTM_GETADDR);
  CHECK_EQ(FixedPart<ifaddrmsg>(addresses).ifa_family, AF_INET6);
  CHECK_EQ(FixedPart<ifaddrmsg>(addresses).ifa_index, 5u);
  const Bytes routes = EncodeRouteDump(AF_INET, 300);
  CHECK_EQ(Header(routes).nlmsg_type, RTM_GETROUTE);
  auto route_attrs = Attributes(routes, sizeof(rtmsg));
  CHECK_EQ(route_attrs[RTA_TABLE], U32Bytes(300));
  CHECK(Attributes(EncodeRouteDump(AF_INET, 0), sizeof(rtmsg)).count(RTA_TABLE) == 0);
  const Bytes rules = EncodeRuleDump(AF_INET);
  CHECK_EQ(Header(rules).nlmsg_type, RTM_GETRULE);
  CHECK_EQ(Header(rules).nlmsg_len, NLMSG_LENGTH(sizeof(fib_rule_hdr)));
  CHECK_EQ(Header(EncodeLinkDump()).nlmsg_type, RTM_GETLINK);
}

TEST(LinkDecode) {
  ifinfomsg fixed{};
  fixed.ifi_type = 1;  // ARPHRD_ETHER
  fixed.ifi_index = 4;
  fixed.ifi_flags = 0x1043;
  const Bytes mac = {0x02, 0, 0x5e, 0x10, 0, 1};
  const Bytes message = Raw(RTM_NEWLINK)
                            .Fixed(fixed)
                            .Attr(IFLA_IFNAME, {'v', 'e', 't', 'h', '1', 0})
                            .Attr(IFLA_ADDRESS, mac)
                            .Attr(IFLA_MTU, U32Bytes(9000))
                            .Attr(IFLA_OPERSTATE, {6})
                            .Attr(IFLA_TXQLEN, U32Bytes(1000))  // not in the policy: skipped
                            .Finish();
  const Message m = MustDecode(message);
  CHECK(m.kind == Message::Kind::kLink);
  CHECK_EQ(m.seq, 7u);
  CHECK_EQ(m.link.index, 4u);
  CHECK_EQ(m.link.type, 1);
  CHECK_EQ(m.link.flags, 0x1043u);
  CHECK_EQ(m.link.name, std::string("veth1"));
  CHECK_EQ(m.link.mac, mac);
  CHECK(m.link.has_mtu);
  CHECK_EQ(m.link.mtu, 9000u);
  CHECK_EQ(std::string(OperstateName(m.link.operstate)), std::string("up"));
}

TEST(NeighbourDecode) {
  ndmsg fixed{};
  fixed.ndm_family = AF_INET;
  fixed.ndm_ifindex = 3;
  fixed.ndm_state = NUD_REACHABLE;
  const Bytes lladdr = {2, 0, 0, 0, 0x0b, 1};
  const Message m = MustDecode(
      Raw(RTM_DELNEIGH).Fixed(fixed).Attr(NDA_DST, {192, 0, 2, 100}).Attr(NDA_LLADDR, lladdr).Finish());
  CHECK(m.kind == Message::Kind::kNeighbour);
  CHECK(m.removed);
  CHECK_EQ(m.neighbour.index, 3u);
  CHECK_EQ(m.neighbour.state, NUD_REACHABLE);
  CHECK(Same(m.neighbour.destination, V4(192, 0, 2, 100)));
  CHECK_EQ(m.neighbour.lladdr, lladdr);
}

TEST(AckAndNackDecode) {
  nlmsgerr ack{};
  const Message a = MustDecode(Raw(NLMSG_ERROR).Fixed(ack).Finish());
  CHECK(a.kind == Message::Kind::kAck);
  CHECK_EQ(a.error, 0);
  nlmsgerr nack{};
  nack.error = -EEXIST;
  const Message n = MustDecode(Raw(NLMSG_ERROR).Fixed(nack).Finish());
  CHECK(n.kind == Message::Kind::kError);
  CHECK_EQ(n.error, EEXIST);
  CHECK(n.error_message.empty());
}

TEST(ExtendedAckMessage) {
  // What the kernel sends with NETLINK_CAP_ACK and NETLINK_EXT_ACK on: the
  // request echoed as its header only (capped), then TLVs.
  nlmsgerr nack{};
  nack.error = -EINVAL;
  nack.msg.nlmsg_len = 44;  // the request's length; capped, so not echoed
  const Bytes message = Raw(NLMSG_ERROR, 0x100 | 0x200)  // NLM_F_CAPPED | NLM_F_ACK_TLVS
                            .Fixed(nack)
                            .Attr(NLMSGERR_ATTR_MSG, kBoom)
                            .Finish();
  const Message m = MustDecode(message);
  CHECK(m.kind == Message::Kind::kError);
  CHECK_EQ(m.error, EINVAL);
  CHECK_EQ(m.error_message, std::string("boom"));
  CHECK(!m.has_error_offset);
  ReplyState state;
  CHECK(RunReplies(message.data(), message.size(), 7, Until::kAck, {}, &state) == Progress::kFailed);
  CHECK(!state.malformed);
  CHECK_EQ(state.error, EINVAL);
  CHECK_EQ(state.message, std::string("boom"));
}

TEST(ExtAckAbsentWithoutTlvFlag) {
  nlmsgerr nack{};
  nack.error = -EINVAL;
  const Bytes message = Raw(NLMSG_ERROR).Fixed(nack).Attr(NLMSGERR_ATTR_MSG, kBoom).Finish();
  CHECK(MustDecode(message).error_message.empty());
  ReplyState state;
  CHECK(RunReplies(message.data(), message.size(), 7, Until::kAck, {}, &state) == Progress::kFailed);
  CHECK_EQ(state.error, EINVAL);
  CHECK(state.message.empty());
}

// ---------------------------------------------------------------------------
// The reply loop

namespace {

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

Bytes Ack(uint32_t seq) {
  nlmsgerr ack{};
  return Raw(NLMSG_ERROR, 0x100).Seq(seq).Fixed(ack).Finish();
}

Bytes Done(uint32_t seq, int status = 0, uint16_t flags = NLM_F_MULTI) {
  return Raw(NLMSG_DONE, flags).Seq(seq).Fixed(status).Finish();
}

Bytes RouteReply(uint32_t seq, uint8_t table, uint16_t flags = NLM_F_MULTI) {
  rtmsg fixed{};
  fixed.rtm_family = AF_INET;
  fixed.rtm_table = table;
  fixed.rtm_type = RTN_UNICAST;
  return Raw(RTM_NEWROUTE, flags).Seq(seq).Fixed(fixed).Finish();
}

// Runs `datagrams` in order, as NlSocket does, collecting the data messages.
struct Run {
  Progress progress = Progress::kMore;
  ReplyState state;
  std::vector<Message> data;
};
Run RunAll(std::initializer_list<Bytes> datagrams, uint32_t seq, Until until) {
  Run run;
  const DataCallback keep = [&run](const uint8_t* data, size_t size, std::string* why) {
    Message message;
    if (!DecodeMessage(data, size, &message, why)) return false;
    run.data.push_back(message);
    return true;
  };
  for (const Bytes& datagram : datagrams) {
    run.progress = RunReplies(datagram.data(), datagram.size(), seq, until, keep, &run.state);
    if (run.progress != Progress::kMore) break;
  }
  return run;
}

}  // namespace

TEST(ReplyLoopAckEndsARequest) {
  const Bytes ack = Ack(7);
  ReplyState state;
  CHECK(RunReplies(ack.data(), ack.size(), 7, Until::kAck, {}, &state) == Progress::kDone);
  CHECK_EQ(state.error, 0);
  // A dump does not end at an ACK (kernels that ACK a dump send it after NLMSG_DONE).
  ReplyState dump;
  CHECK(RunReplies(ack.data(), ack.size(), 7, Until::kDone, {}, &dump) == Progress::kMore);
}

TEST(ReplyLoopSkipsOtherSequenceNumbers) {
  // A late NACK for an exchange that timed out, then a notification, then our ACK.
  nlmsgerr nack{};
  nack.error = -EEXIST;
  const Bytes datagram = Concat({Raw(NLMSG_ERROR).Seq(6).Fixed(nack).Finish(), RouteReply(0, 254, 0), Ack(7)});
  const Run run = RunAll({datagram}, 7, Until::kAck);
  CHECK(run.progress == Progress::kDone);
  CHECK_EQ(run.state.error, 0);
  CHECK_EQ(run.data.size(), size_t{0});
}

TEST(ReplyLoopDumpAcrossDatagrams) {
  const Run run = RunAll({Concat({RouteReply(7, 100), RouteReply(7, 254)}), Concat({RouteReply(7, 255), Done(7)})}, 7,
                         Until::kDone);
  CHECK(run.progress == Progress::kDone);
  CHECK(!run.state.interrupted);
  REQUIRE(run.data.size() == 3);
  CHECK(run.data[0].kind == Message::Kind::kRoute);
  CHECK_EQ(run.data[2].route.table, 255u);
  // Without NLMSG_DONE the dump is not over.
  CHECK(RunAll({RouteReply(7, 100)}, 7, Until::kDone).progress == Progress::kMore);
  // A get's reply ends at its ACK, not at a NLMSG_DONE (there is none), with the data kept.
  const Run get = RunAll({Concat({RouteReply(7, 100, 0), Ack(7)})}, 7, Until::kAck);
  CHECK(get.progress == Progress::kDone);
  CHECK_EQ(get.data.size(), size_t{1});
}

TEST(ReplyLoopNotesDumpInterrupted) {
  const Run run = RunAll({Concat({RouteReply(7, 100), RouteReply(7, 254, NLM_F_MULTI | NLM_F_DUMP_INTR)}),
                          Done(7, 0, NLM_F_MULTI | NLM_F_DUMP_INTR)},
                         7, Until::kDone);
  CHECK(run.progress == Progress::kDone);  // read to the end: the socket is drained
  CHECK(run.state.interrupted);
  CHECK_EQ(run.data.size(), size_t{2});
  // Only our own replies count.
  CHECK(!RunAll({Concat({RouteReply(9, 1, NLM_F_DUMP_INTR), Done(7)})}, 7, Until::kDone).state.interrupted);
}

TEST(ReplyLoopDumpErrorInDone) {
  // A dump that failed part-way: the error in NLMSG_DONE, with the extended ACK after it.
  const int status = -EMSGSIZE;
  const Bytes done = Raw(NLMSG_DONE, NLM_F_MULTI | 0x200).Fixed(status).Attr(NLMSGERR_ATTR_MSG, kBoom).Finish();
  const Message m = MustDecode(done);
  CHECK(m.kind == Message::Kind::kDone);
  CHECK_EQ(m.error, EMSGSIZE);
  CHECK_EQ(m.error_message, std::string("boom"));
  const Run run = RunAll({done}, 7, Until::kDone);
  CHECK(run.progress == Progress::kFailed);
  CHECK(!run.state.malformed);
  CHECK_EQ(run.state.error, EMSGSIZE);
  CHECK_EQ(run.state.message, std::string("boom"));
  // Also while waiting for an ACK: an error is an error.
  CHECK(RunAll({done}, 7, Until::kAck).progress == Progress::kFailed);
}

TEST(ReplyLoopNackWithOffsetAndUncappedEcho) {
  // NETLINK_CAP_ACK off: the whole request is echoed before the TLVs.
  const Bytes request = EncodeGetLinkByName("eth0");
  nlmsgerr nack{};
  nack.error = -ENODEV;
  memcpy(&nack.msg, request.data(), sizeof(nack.msg));
  const Bytes rest(request.begin() + NLMSG_HDRLEN, request.end());
  // By hand: header, nlmsgerr (with the request's header), the rest of the request, then the TLVs.
  Bytes built = Raw(NLMSG_ERROR, 0x200).Fixed(nack).Finish();
  built.insert(built.end(), rest.begin(), rest.end());
  built.resize(NLMSG_ALIGN(built.size()), 0);
  const Bytes tlvs = Raw(0).Attr(NLMSGERR_ATTR_MSG, kBoom).Attr(NLMSGERR_ATTR_OFFS, U32Bytes(20)).Finish();
  built.insert(built.end(), tlvs.begin() + NLMSG_HDRLEN, tlvs.end());
  const uint32_t length = static_cast<uint32_t>(built.size());
  memcpy(built.data(), &length, 4);
  const Message m = MustDecode(built);
  CHECK(m.kind == Message::Kind::kError);
  CHECK_EQ(m.error_message, std::string("boom"));
  CHECK(m.has_error_offset);
  CHECK_EQ(m.error_offset, 20u);
  const Run run = RunAll({built}, 7, Until::kAck);
  CHECK(run.progress == Progress::kFailed);
  CHECK_EQ(run.state.error, ENODEV);
  CHECK_EQ(run.state.message, std::string("boom"));
  CHECK(run.state.has_offset);
  CHECK_EQ(run.state.offset, 20u);
}

TEST(ReplyLoopRefusesMalformed) {
  // A short NLMSG_ERROR (the guard once reported these as EPROTO with no reason).
  const Bytes short_error = Raw(NLMSG_ERROR).Fixed(uint32_t{0}).Finish();
  const Run run = RunAll({short_error}, 7, Until::kAck);
  CHECK(run.progress == Progress::kFailed);
  CHECK(run.state.malformed);
  CHECK(run.state.why.find("NLMSG_ERROR shorter than nlmsgerr") != std::string::npos);
  // Framing is checked for every message, ours or not.
  Bytes bad = RouteReply(3, 1, 0);
  const uint32_t claimed = static_cast<uint32_t>(bad.size() + 4);
  memcpy(bad.data(), &claimed, 4);
  const Run framing = RunAll({bad}, 7, Until::kAck);
  CHECK(framing.state.malformed);
  CHECK(framing.state.why.find("nlmsg_len") != std::string::npos);
  // A data message the callback cannot read fails the exchange, naming where.
  rtmsg fixed{};
  fixed.rtm_family = AF_INET;
  fixed.rtm_dst_len = 33;
  const Run data = RunAll({Raw(RTM_NEWROUTE).Fixed(fixed).Finish()}, 7, Until::kDone);
  CHECK(data.state.malformed);
  CHECK(data.state.why.find("offset 0 (RTM_NEWROUTE): rtm_dst_len 33") != std::string::npos);
}

TEST(ReplyLoopStopsAtTheEnd) {
  // What follows the ACK is not looked at (as libmnl's mnl_cb_run stops at MNL_CB_STOP).
  Bytes datagram = Ack(7);
  datagram.push_back(0xff);
  datagram.push_back(0xff);
  ReplyState state;
  CHECK(RunReplies(datagram.data(), datagram.size(), 7, Until::kAck, {}, &state) == Progress::kDone);
  // NLMSG_NOOP is skipped.
  const Bytes noop = Concat({Raw(NLMSG_NOOP).Finish(), Ack(7)});
  ReplyState skipped;
  CHECK(RunReplies(noop.data(), noop.size(), 7, Until::kAck, {}, &skipped) == Progress::kDone);
}

TEST(DoneCarriesDumpError) {
  const int status = -EINTR;
  const Message m = MustDecode(Raw(NLMSG_DONE).Fixed(status).Finish());
  CHECK(m.kind == Message::Kind::kDone);
  CHECK_EQ(m.error, EINTR);
  const int fine = 0;
  CHECK_EQ(MustDecode(Raw(NLMSG_DONE).Fixed(fine).Finish()).error, 0);
}

TEST(BatchDecodesInOrder) {
  AddressRequest address;
  address.index = 2;
  address.prefix_length = 24;
  address.address = V4(192, 0, 2, 10);
  RuleRequest rule;
  rule.table = 100;
  Bytes batch = EncodeAddressRequest(Op::kAdd, address);
  const Bytes second = EncodeRuleRequest(Op::kAdd, rule);
  const Bytes third = EncodeGetLinkByName("lo");
  batch.insert(batch.end(), second.begin(), second.end());
  batch.insert(batch.end(), third.begin(), third.end());
  std::vector<Message> messages;
  std::string why;
  REQUIRE(DecodeMessages(batch.data(), batch.size(), &messages, &why));
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].kind == Message::Kind::kAddress);
  CHECK(messages[1].kind == Message::Kind::kRule);
  CHECK(messages[2].kind == Message::Kind::kOther);  // RTM_GETLINK is a request, not a link
  CHECK_EQ(messages[2].type, RTM_GETLINK);
}

TEST(RefusesShortHeader) {
  const Bytes stub(NLMSG_HDRLEN - 1, 0);
  Message m;
  std::string why;
  CHECK(!DecodeOne(stub, &m, &why));
  CHECK(!why.empty());
  CHECK(Refusal(stub).find("trailing bytes") != std::string::npos);
}

TEST(RefusesLengthMismatch) {
  Bytes message = EncodeGetLinkByIndex(1);
  message.push_back(0);
  message.push_back(0);
  message.push_back(0);
  message.push_back(0);
  Message m;
  std::string why;
  CHECK(!DecodeOne(message, &m, &why));
  CHECK(why.find("does not match") != std::string::npos);
}

TEST(RefusesMessageLongerThanDatagram) {
  Bytes message = EncodeGetLinkByIndex(1);
  const uint32_t claimed = static_cast<uint32_t>(message.size() + 8);
  memcpy(message.data(), &claimed, 4);
  CHECK(Refusal(message).find("nlmsg_len") != std::string::npos);
  const uint32_t tiny = 8;  // shorter than nlmsghdr itself
  memcpy(message.data(), &tiny, 4);
  CHECK(Refusal(message).find("nlmsg_len 8") != std::string::npos);
}

TEST(RefusesTrailingBytes) {
  Bytes batch = EncodeGetLinkByIndex(1);
  const size_t first = batch.size();
  batch.insert(batch.end(), {1, 2, 3});
  const std::string why = Refusal(batch);
  CHECK(why.find("offset " + std::to_string(first)) != std::string::npos);
}

TEST(RefusesAttributeOverrun) {
  ifaddrmsg fixed{};
  fixed.ifa_family = AF_INET;
  fixed.ifa_prefixlen = 24;
  // IFA_LABEL claims 40 bytes; 8 are there.
  const Bytes message = Raw(RTM_NEWADDR).Fixed(fixed).Attr(IFA_LABEL, {'a', 'b', 'c', 0}, 40).Finish();
  const std::string why = Refusal(message);
  CHECK(why.find("has length 40") != std::string::npos);
}

TEST(RefusesAttributeShorterThanItsHeader) {
  ifaddrmsg fixed{};
  fixed.ifa_family = AF_INET;
  const Bytes message = Raw(RTM_NEWADDR).Fixed(fixed).Attr(IFA_LABEL, {0, 0, 0, 0}, 2).Finish();
  CHECK(Refusal(message).find("has length 2") != std::string::npos);
}

TEST(RefusesWrongAddressSize) {
  ifaddrmsg fixed{};
  fixed.ifa_family = AF_INET;
  fixed.ifa_prefixlen = 24;
  const Bytes message = Raw(RTM_NEWADDR).Fixed(fixed).Attr(IFA_LOCAL, {192, 0, 2, 1, 0, 0}).Finish();
  CHECK(Refusal(message).find("IFA_LOCAL has a 6-byte payload") != std::string::npos);
  rtmsg route{};
  route.rtm_family = AF_INET6;
  const Bytes v6 = Raw(RTM_NEWROUTE).Fixed(route).Attr(RTA_GATEWAY, {192, 0, 2, 1}).Finish();
  CHECK(Refusal(v6).find("RTA_GATEWAY has a 4-byte payload") != std::string::npos);
}

TEST(RefusesWrongScalarSize) {
  rtmsg route{};
  route.rtm_family = AF_INET;
  CHECK(Refusal(Raw(RTM_NEWROUTE).Fixed(route).Attr(RTA_OIF, {1, 0}).Finish()).find("RTA_OIF") !=
        std::string::npos);
  ifinfomsg link{};
  CHECK(Refusal(Raw(RTM_NEWLINK).Fixed(link).Attr(IFLA_OPERSTATE, {6, 0}).Finish()).find("IFLA_OPERSTATE") !=
        std::string::npos);
  CHECK(Refusal(Raw(RTM_NEWLINK).Fixed(link).Attr(IFLA_ADDRESS, Bytes(33, 1)).Finish()).find("IFLA_ADDRESS") !=
        std::string::npos);
}

TEST(RefusesPrefixLongerThanFamily) {
  ifaddrmsg address{};
  address.ifa_family = AF_INET;
  address.ifa_prefixlen = 33;
  CHECK(Refusal(Raw(RTM_NEWADDR).Fixed(address).Finish()).find("ifa_prefixlen 33 exceeds") != std::string::npos);
  rtmsg route{};
  route.rtm_family = AF_INET6;
  route.rtm_dst_len = 129;
  CHECK(Refusal(Raw(RTM_NEWROUTE).Fixed(route).Finish()).find("rtm_dst_len 129") != std::string::npos);
  fib_rule_hdr rule{};
  rule.family = AF_INET;
  rule.src_len = 40;
  CHECK(Refusal(Raw(RTM_NEWRULE).Fixed(rule).Finish()).find("src_len 40") != std::string::npos);
}

TEST(RefusesTruncatedFixedHeaders) {
  const uint8_t two[] = {AF_INET, 0};
  CHECK(Refusal(Raw(RTM_NEWADDR).Fixed(two).Finish()).find("shorter than ifaddrmsg") != std::string::npos);
  CHECK(Refusal(Raw(RTM_NEWROUTE).Fixed(two).Finish()).find("shorter than rtmsg") != std::string::npos);
  CHECK(Refusal(Raw(NLMSG_ERROR).Fixed(two).Finish()).find("shorter than nlmsgerr") != std::string::npos);
  CHECK(Refusal(Raw(RTM_NEWLINK).Finish()).find("shorter than ifinfomsg") != std::string::npos);
}

TEST(RefusesErrnoOutOfRange) {
  nlmsgerr positive{};
  positive.error = 5;
  CHECK(Refusal(Raw(NLMSG_ERROR).Fixed(positive).Finish()).find("carries error 5") != std::string::npos);
  nlmsgerr huge{};
  huge.error = -5000;
  CHECK(!Refusal(Raw(NLMSG_ERROR).Fixed(huge).Finish()).empty());
}

TEST(RefusesExtAckEchoPastEnd) {
  nlmsgerr nack{};
  nack.error = -EINVAL;
  nack.msg.nlmsg_len = 200;  // not capped: claims a 200-byte echo that is not there
  const Bytes message = Raw(NLMSG_ERROR, 0x200).Fixed(nack).Finish();
  CHECK(Refusal(message).find("echoes more of the request") != std::string::npos);
}

TEST(OtherFamiliesAndTypesAreNotOurs) {
  ifaddrmsg packet{};
  packet.ifa_family = AF_PACKET;
  packet.ifa_prefixlen = 200;  // meaningless for a family we do not speak: not checked
  const Message m = MustDecode(Raw(RTM_NEWADDR).Fixed(packet).Finish());
  CHECK(m.kind == Message::Kind::kOther);
  CHECK_EQ(m.type, RTM_NEWADDR);
  const Message unknown = MustDecode(Raw(0x7ff).Fixed(packet).Finish());
  CHECK(unknown.kind == Message::Kind::kOther);
}

TEST(NamesForNumbers) {
  CHECK_EQ(std::string(OperstateName(2)), std::string("down"));
  CHECK_EQ(std::string(OperstateName(200)), std::string(""));
  CHECK_EQ(std::string(AddressScopeName(RT_SCOPE_LINK)), std::string("link"));
  CHECK_EQ(std::string(RouteScopeName(RT_SCOPE_UNIVERSE)), std::string("universe"));
  CHECK_EQ(std::string(RouteTypeName(RTN_LOCAL)), std::string("local"));
  CHECK_EQ(std::string(RuleActionName(FR_ACT_TO_TBL)), std::string("lookup"));
  CHECK_EQ(std::string(MessageTypeName(RTM_NEWADDR)), std::string("RTM_NEWADDR"));
}
