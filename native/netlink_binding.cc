// The rtnetlink socket as a JavaScript class (NetlinkSocket), plus the pure
// encoders/decoder for tests, fuzzing and the guard's replayable requests.
//
// Mechanical: the facade (src/net/netlink.ts, request-specs.ts,
// request-fields.ts) decides every field of a request, its defaults and
// wildcards included; request_fields.cc reads them by table, the codec
// (netlink.cc) lays them out and reads the replies (RunReplies), and this file
// only turns decoded structs into JavaScript objects. Policies on the answers
// (retrying an interrupted dump, ENOENT of a filtered route dump) are the
// facade's too.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <napi.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <uv.h>

#include <cmath>
#include <string>
#include <vector>

#include "errors.h"
#include "netlink.h"
#include "netlink_js.h"
#include "nlsocket.h"
#include "request_fields.h"

namespace vip {

using netlink::Bytes;
using netlink::IpAddress;
using netlink::Message;
using netlink::Op;

// ===========================================================================
// Decoded structs -> JavaScript

Napi::Value AddressToJs(Napi::Env env, const IpAddress& address) {
  if (!address.present()) return env.Undefined();
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(address.family, address.bytes, text, sizeof(text));
  return Napi::String::New(env, text);
}

static Napi::Value NameOrNumber(Napi::Env env, const char* name, uint32_t number) {
  if (name[0] != '\0') return Napi::String::New(env, name);
  return Napi::String::New(env, std::to_string(number));
}

static Napi::Number FamilyToJs(Napi::Env env, uint8_t family) {
  return Napi::Number::New(env, family == AF_INET6 ? 6 : 4);
}

static std::string Cidr(const IpAddress& address, uint8_t family, uint8_t length) {
  IpAddress shown = address;
  if (!shown.present()) shown.family = family;  // absent destination: the all-zero prefix
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, shown.bytes, text, sizeof(text));
  return std::string(text) + "/" + std::to_string(length);
}

// 'aa:bb:cc:dd:ee:ff' (any length; '' for none).
std::string HardwareText(const netlink::Bytes& bytes) {
  std::string text;
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) text += ':';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0xF];
  }
  return text;
}

Napi::Object LinkToJs(Napi::Env env, const netlink::Link& link) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("index", Napi::Number::New(env, link.index));
  object.Set("name", Napi::String::New(env, link.name));
  object.Set("mac", Napi::String::New(env, HardwareText(link.mac)));
  object.Set("hardwareType", Napi::Number::New(env, link.type));
  object.Set("mtu", Napi::Number::New(env, link.mtu));
  object.Set("up", Napi::Boolean::New(env, (link.flags & IFF_UP) != 0));
  object.Set("carrier", Napi::Boolean::New(env, (link.flags & IFF_LOWER_UP) != 0));
  object.Set("operstate", NameOrNumber(env, netlink::OperstateName(link.operstate), link.operstate));
  return object;
}

Napi::Object AddressInfoToJs(Napi::Env env, const netlink::Address& address) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("index", Napi::Number::New(env, address.index));
  object.Set("family", FamilyToJs(env, address.family));
  object.Set("address", AddressToJs(env, address.address));
  object.Set("prefixLength", Napi::Number::New(env, address.prefix_length));
  if (!address.label.empty()) object.Set("label", Napi::String::New(env, address.label));
  object.Set("scope", NameOrNumber(env, netlink::AddressScopeName(address.scope), address.scope));
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("nodad", Napi::Boolean::New(env, (address.flags & IFA_F_NODAD) != 0));
  flags.Set("permanent", Napi::Boolean::New(env, (address.flags & IFA_F_PERMANENT) != 0));
  flags.Set("tentative", Napi::Boolean::New(env, (address.flags & IFA_F_TENTATIVE) != 0));
  flags.Set("deprecated", Napi::Boolean::New(env, (address.flags & IFA_F_DEPRECATED) != 0));
  object.Set("flags", flags);
  if (address.preferred_lifetime != netlink::kForever) {
    object.Set("preferredLifetime", Napi::Number::New(env, address.preferred_lifetime));
  }
  if (address.valid_lifetime != netlink::kForever) {
    object.Set("validLifetime", Napi::Number::New(env, address.valid_lifetime));
  }
  return object;
}

Napi::Object RouteToJs(Napi::Env env, const netlink::Route& route) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("table", Napi::Number::New(env, route.table));
  object.Set("family", FamilyToJs(env, route.family));
  object.Set("destination", Cidr(route.destination, route.family, route.destination_length));
  object.Set("prefixLength", Napi::Number::New(env, route.destination_length));
  if (route.gateway.present()) object.Set("gateway", AddressToJs(env, route.gateway));
  if (route.output_index != 0) object.Set("index", Napi::Number::New(env, route.output_index));
  object.Set("scope", NameOrNumber(env, netlink::RouteScopeName(route.scope), route.scope));
  if (route.preferred_source.present()) object.Set("source", AddressToJs(env, route.preferred_source));
  object.Set("protocol", Napi::Number::New(env, route.protocol));
  if (route.has_priority) object.Set("metric", Napi::Number::New(env, route.priority));
  object.Set("type", NameOrNumber(env, netlink::RouteTypeName(route.type), route.type));
  if (route.flags & RTNH_F_ONLINK) object.Set("onlink", Napi::Boolean::New(env, true));
  return object;
}

Napi::Object RuleToJs(Napi::Env env, const netlink::Rule& rule) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("family", FamilyToJs(env, rule.family));
  if (rule.source_length > 0) object.Set("source", Cidr(rule.source, rule.family, rule.source_length));
  object.Set("sourceLength", Napi::Number::New(env, rule.source_length));
  object.Set("table", Napi::Number::New(env, rule.table));
  // Rules without FRA_PRIORITY sit at priority 0 (only the local-table rule does).
  object.Set("priority", Napi::Number::New(env, rule.has_priority ? rule.priority : 0));
  object.Set("action", NameOrNumber(env, netlink::RuleActionName(rule.action), rule.action));
  return object;
}

Napi::Object NeighbourToJs(Napi::Env env, const netlink::Neighbour& neighbour) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("index", Napi::Number::New(env, neighbour.index));
  object.Set("family", FamilyToJs(env, neighbour.family));
  object.Set("address", AddressToJs(env, neighbour.destination));
  if (!neighbour.lladdr.empty()) object.Set("mac", Napi::String::New(env, HardwareText(neighbour.lladdr)));
  object.Set("state", Napi::Number::New(env, neighbour.state));
  return object;
}

Napi::Object MessageToJs(Napi::Env env, const Message& message) {
  Napi::Object object = Napi::Object::New(env);
  const char* action = message.removed ? "delete" : "add";
  switch (message.kind) {
    case Message::Kind::kLink:
      object.Set("type", "link");
      if (!message.removed && message.link.change != 0xFFFFFFFFu) action = "change";
      object.Set("action", action);
      object.Set("link", LinkToJs(env, message.link));
      break;
    case Message::Kind::kAddress:
      object.Set("type", "address");
      object.Set("action", action);
      object.Set("address", AddressInfoToJs(env, message.address));
      break;
    case Message::Kind::kRoute:
      object.Set("type", "route");
      object.Set("action", action);
      object.Set("route", RouteToJs(env, message.route));
      break;
    case Message::Kind::kRule:
      object.Set("type", "rule");
      object.Set("action", action);
      object.Set("rule", RuleToJs(env, message.rule));
      break;
    case Message::Kind::kNeighbour:
      object.Set("type", "neighbour");
      object.Set("action", action);
      object.Set("neighbour", NeighbourToJs(env, message.neighbour));
      break;
    case Message::Kind::kAck:
      object.Set("type", "ack");
      break;
    case Message::Kind::kError:
    case Message::Kind::kDone:
      object.Set("type", message.kind == Message::Kind::kDone ? "done" : "error");
      if (message.error != 0) {
        object.Set("errno", Napi::Number::New(env, -message.error));
        object.Set("code", Napi::String::New(env, uv_err_name(-message.error)));
      }
      if (!message.error_message.empty()) object.Set("message", message.error_message);
      break;
    case Message::Kind::kOther:
      object.Set("type", "other");
      break;
  }
  object.Set("messageType", Napi::Number::New(env, message.type));
  object.Set("flags", Napi::Number::New(env, message.flags));
  object.Set("seq", Napi::Number::New(env, message.seq));
  return object;
}

namespace {

// ===========================================================================
// Arguments. Requests and filters are read by request_fields.cc's tables;
// what is left are the plain arguments of getLink, indexOf and nameOf, which
// the facade has validated (a mismatch is an internal error, as there).

bool Given(const Napi::Value& value) { return !value.IsUndefined() && !value.IsNull(); }

uint32_t ReadIndexArgument(Napi::Env env, const Napi::Value& value) {
  if (!value.IsNumber()) ThrowInternalField(env, "link", "must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 1 && number <= 0x7FFFFFFF) || std::floor(number) != number) {
    ThrowInternalField(env, "link", "must be an ifindex (1 to 2147483647)");
  }
  return static_cast<uint32_t>(number);
}

std::string ReadNameArgument(Napi::Env env, const Napi::Value& value) {
  if (!value.IsString()) ThrowInternalField(env, "link", "must be an interface name");
  const std::string name = value.As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IFNAMSIZ) ThrowInternalField(env, "link", "names are 1 to 15 bytes");
  return name;
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const Bytes& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

Napi::Error ClosedError(Napi::Env env) {
  Napi::Error error = Napi::Error::New(env, "the netlink socket is closed");
  error.Set("code", Napi::String::New(env, "ERR_SOCKET_CLOSED"));
  return error;
}

// ===========================================================================
// NetlinkSocket

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {
                           InstanceMethod<&NetlinkSocket::GetLink>("getLink"),
                           InstanceMethod<&NetlinkSocket::IndexOf>("indexOf"),
                           InstanceMethod<&NetlinkSocket::NameOf>("nameOf"),
                           InstanceMethod<&NetlinkSocket::ListLinks>("listLinks"),
                           InstanceMethod<&NetlinkSocket::AddAddress>("addAddress"),
                           InstanceMethod<&NetlinkSocket::ReplaceAddress>("replaceAddress"),
                           InstanceMethod<&NetlinkSocket::DeleteAddress>("deleteAddress"),
                           InstanceMethod<&NetlinkSocket::ListAddresses>("listAddresses"),
                           InstanceMethod<&NetlinkSocket::AddRoute>("addRoute"),
                           InstanceMethod<&NetlinkSocket::DeleteRoute>("deleteRoute"),
                           InstanceMethod<&NetlinkSocket::ListRoutes>("listRoutes"),
                           InstanceMethod<&NetlinkSocket::AddRule>("addRule"),
                           InstanceMethod<&NetlinkSocket::DeleteRule>("deleteRule"),
                           InstanceMethod<&NetlinkSocket::ListRules>("listRules"),
                           InstanceMethod<&NetlinkSocket::Replay>("request"),
                           InstanceMethod<&NetlinkSocket::Close>("close"),
                           InstanceAccessor<&NetlinkSocket::Closed>("closed"),
                       });
  }

  explicit NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info) {
    Napi::Env env = info.Env();
    std::string netns;
    if (info.Length() > 0 && Given(info[0])) {
      if (!info[0].IsString()) ThrowTypeError(env, "netns", "must be a path string");
      netns = info[0].As<Napi::String>().Utf8Value();
    }
    NlError error;
    if (!socket_.Open(netns, {}, &error)) {
      const Capability cap = error.syscall == "setns" ? Capability::kSysAdmin : Capability::kNone;
      throw SystemError(env, error.err, error.syscall.c_str(), netns, cap);
    }
  }

 private:
  int Fd(Napi::Env env) {
    if (!socket_.IsOpen()) throw ClosedError(env);
    return socket_.fd();
  }

  static uint16_t RequestType(const Bytes& request) {
    nlmsghdr header;
    memcpy(&header, request.data(), sizeof(header));
    return header.nlmsg_type;
  }

  // Kernel refusals carry the request type as `syscall` ('RTM_NEWADDR'), which
  // says more than "sendmsg" would.
  Napi::Error KernelError(Napi::Env env, const NlError& error, const Bytes& request) {
    const char* syscall =
        error.syscall == "rtnetlink" ? netlink::MessageTypeName(RequestType(request)) : error.syscall.c_str();
    return SystemError(env, error.err, syscall, error.ext_ack, Capability::kNetAdmin);
  }

  // A change: send, wait for the ACK (NlSocket::Request, as the guard does).
  void Change(Napi::Env env, Bytes request) {
    Fd(env);
    Bytes sent = request;
    NlError error;
    if (!socket_.Request(sent, &error)) throw KernelError(env, error, request);
  }

  // One get (until its ACK) or dump (until NLMSG_DONE) through the socket's
  // reply loop; the data messages it hands over are decoded and kept. Returns
  // false when a reply carried NLM_F_DUMP_INTR: the list is not a consistent
  // snapshot, and asking again is the facade's decision (src/net/netlink.ts).
  bool Query(Napi::Env env, const Bytes& request, netlink::Until until, std::vector<Message>* replies) {
    Fd(env);
    Bytes sent = request;
    NlError error;
    bool interrupted = false;
    const auto keep = [replies](const uint8_t* data, size_t size, std::string* why) {
      Message message;
      if (!netlink::DecodeMessage(data, size, &message, why)) return false;
      if (message.kind != Message::Kind::kOther) replies->push_back(std::move(message));
      return true;
    };
    const uint16_t flags = until == netlink::Until::kDone ? NLM_F_DUMP : NLM_F_ACK;
    if (!socket_.Exchange(sent, flags, until, keep, &error, &interrupted)) throw KernelError(env, error, request);
    return !interrupted;
  }

  Napi::Value GetLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Bytes request = info[0].IsString() ? netlink::EncodeGetLinkByName(ReadNameArgument(env, info[0]))
                                             : netlink::EncodeGetLinkByIndex(ReadIndexArgument(env, info[0]));
    std::vector<Message> replies;
    Query(env, request, netlink::Until::kAck, &replies);
    for (const Message& reply : replies) {
      if (reply.kind == Message::Kind::kLink) return LinkToJs(env, reply.link);
    }
    throw SystemError(env, ENODEV, "RTM_GETLINK", "no link in the reply");
  }

  // Name <-> index without a full RTM_GETLINK reply: device ioctls on any
  // socket act in that socket's namespace (sock_do_ioctl falls back to
  // dev_ioctl), so the netlink socket answers for its own namespace in about a
  // tenth of the time. Used by the facade on every call that names a link.
  Napi::Value IndexOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int fd = Fd(env);
    const std::string name = ReadNameArgument(env, info[0]);
    ifreq request{};
    memcpy(request.ifr_name, name.data(), name.size());
    if (ioctl(fd, SIOCGIFINDEX, &request) != 0) throw SystemError(env, errno, "SIOCGIFINDEX");
    return Napi::Number::New(env, request.ifr_ifindex);
  }

  Napi::Value NameOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int fd = Fd(env);
    ifreq request{};
    request.ifr_ifindex = static_cast<int>(ReadIndexArgument(env, info[0]));
    if (ioctl(fd, SIOCGIFNAME, &request) != 0) throw SystemError(env, errno, "SIOCGIFNAME");
    return Napi::String::New(env, std::string(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ)));
  }

  // The list methods return null for an interrupted dump (see Query).
  Napi::Value ListLinks(const Napi::CallbackInfo& info) {
    return Dump(info.Env(), netlink::EncodeLinkDump(), Message::Kind::kLink,
                [](const Message& m) { return m.link.family == AF_UNSPEC; },
                [](Napi::Env env, const Message& m) { return LinkToJs(env, m.link); });
  }

  // One dump: the replies of `kind` that `keep` accepts, as JS values; null
  // for an interrupted dump (see Query). The list methods filter again what
  // they asked the kernel to filter: older kernels ignore a dump filter, and
  // filtering again costs nothing.
  template <typename Keep, typename ToJs>
  Napi::Value Dump(Napi::Env env, const Bytes& request, Message::Kind kind, Keep keep, ToJs to_js) {
    std::vector<Message> replies;
    if (!Query(env, request, netlink::Until::kDone, &replies)) return env.Null();
    Napi::Array values = Napi::Array::New(env);
    for (const Message& reply : replies) {
      if (reply.kind == kind && keep(reply)) values.Set(values.Length(), to_js(env, reply));
    }
    return values;
  }

  Napi::Value AddAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(), netlink::EncodeAddressRequest(Op::kAdd, ReadAddressFields(info.Env(), info[0])));
    return info.Env().Undefined();
  }

  Napi::Value ReplaceAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(), netlink::EncodeAddressRequest(Op::kReplace, ReadAddressFields(info.Env(), info[0])));
    return info.Env().Undefined();
  }

  Napi::Value DeleteAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(), netlink::EncodeAddressRequest(Op::kDelete, ReadAddressFields(info.Env(), info[0])));
    return info.Env().Undefined();
  }

  Napi::Value ListAddresses(const Napi::CallbackInfo& info) {
    const DumpFilter filter = ReadAddressFilterFields(info.Env(), info[0]);
    return Dump(info.Env(), netlink::EncodeAddressDump(filter.family, filter.index), Message::Kind::kAddress,
                [&](const Message& m) {
                  return (filter.index == 0 || m.address.index == filter.index) && (filter.family == AF_UNSPEC || m.address.family == filter.family);
                },
                [](Napi::Env env, const Message& m) { return AddressInfoToJs(env, m.address); });
  }

  Napi::Value AddRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRouteRequest(Op::kAdd, ReadRouteFields(env, info[0])));
    return env.Undefined();
  }

  Napi::Value DeleteRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRouteRequest(Op::kDelete, ReadRouteFields(env, info[0])));
    return env.Undefined();
  }

  Napi::Value ListRoutes(const Napi::CallbackInfo& info) {
    const DumpFilter filter = ReadRouteFilterFields(info.Env(), info[0]);
    return Dump(info.Env(), netlink::EncodeRouteDump(filter.family, filter.table), Message::Kind::kRoute,
                [&](const Message& m) {
                  return (filter.table == 0 || m.route.table == filter.table) && (filter.family == AF_UNSPEC || m.route.family == filter.family);
                },
                [](Napi::Env env, const Message& m) { return RouteToJs(env, m.route); });
  }

  Napi::Value AddRule(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRuleRequest(Op::kAdd, ReadRuleFields(env, info[0])));
    return env.Undefined();
  }

  Napi::Value DeleteRule(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRuleRequest(Op::kDelete, ReadRuleFields(env, info[0])));
    return env.Undefined();
  }

  Napi::Value ListRules(const Napi::CallbackInfo& info) {
    const DumpFilter filter = ReadRuleFilterFields(info.Env(), info[0]);
    return Dump(info.Env(), netlink::EncodeRuleDump(filter.family), Message::Kind::kRule,
                [&](const Message& m) { return filter.family == AF_UNSPEC || m.rule.family == filter.family; },
                [](Napi::Env env, const Message& m) { return RuleToJs(env, m.rule); });
  }

  // request(bytes): sends one pre-encoded change (encode*Request) and waits
  // for its ACK, exactly as the guard replays them.
  Napi::Value Replay(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() == 0 || !info[0].IsTypedArray()) ThrowTypeError(env, "request", "must be a Buffer");
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    std::vector<Message> messages;
    std::string why;
    if (!netlink::DecodeMessages(bytes.Data(), bytes.ByteLength(), &messages, &why)) {
      Napi::Error error = Napi::Error::New(env, "request: malformed netlink data: " + why);
      error.Set("code", Napi::String::New(env, "ERR_NETLINK_MALFORMED"));
      throw error;
    }
    if (messages.size() != 1) ThrowTypeError(env, "request", "must hold exactly one message");
    switch (messages[0].type) {
      case RTM_NEWADDR: case RTM_DELADDR: case RTM_NEWROUTE: case RTM_DELROUTE: case RTM_NEWRULE: case RTM_DELRULE:
        break;
      default:
        ThrowTypeError(env, "request", std::string(netlink::MessageTypeName(messages[0].type)) +
                                           " is not an address, route or rule change");
    }
    Change(env, Bytes(bytes.Data(), bytes.Data() + bytes.ByteLength()));
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    socket_.Close();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !socket_.IsOpen()); }

  NlSocket socket_;
};

// ===========================================================================
// Pure exports

Napi::Value EncodeAddressRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Op op = ReadOpField(env, info[0], true);
  return ToBuffer(env, netlink::EncodeAddressRequest(op, ReadAddressFields(env, info[1])));
}

Napi::Value EncodeRouteRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Op op = ReadOpField(env, info[0], false);
  return ToBuffer(env, netlink::EncodeRouteRequest(op, ReadRouteFields(env, info[1])));
}

Napi::Value EncodeRuleRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Op op = ReadOpField(env, info[0], false);
  return ToBuffer(env, netlink::EncodeRuleRequest(op, ReadRuleFields(env, info[1])));
}

Napi::Value DecodeMessagesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() == 0 || !info[0].IsTypedArray()) ThrowTypeError(env, "buffer", "must be a Buffer or Uint8Array");
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  std::vector<Message> messages;
  std::string why;
  if (!netlink::DecodeMessages(bytes.Data(), bytes.ByteLength(), &messages, &why)) {
    Napi::Error error = Napi::Error::New(env, "malformed netlink data: " + why);
    error.Set("code", Napi::String::New(env, "ERR_NETLINK_MALFORMED"));
    throw error;
  }
  Napi::Array result = Napi::Array::New(env, messages.size());
  for (size_t i = 0; i < messages.size(); ++i) result.Set(i, MessageToJs(env, messages[i]));
  return result;
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkSocket", NetlinkSocket::Define(env));
  exports.Set("encodeAddressRequest", Napi::Function::New<EncodeAddressRequestJs>(env, "encodeAddressRequest"));
  exports.Set("encodeRouteRequest", Napi::Function::New<EncodeRouteRequestJs>(env, "encodeRouteRequest"));
  exports.Set("encodeRuleRequest", Napi::Function::New<EncodeRuleRequestJs>(env, "encodeRuleRequest"));
  exports.Set("decodeMessages", Napi::Function::New<DecodeMessagesJs>(env, "decodeMessages"));
}

}  // namespace vip
