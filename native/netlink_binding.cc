// The rtnetlink socket as a JavaScript class (NetlinkSocket), plus the pure
// encoders/decoder for tests, fuzzing and the guard's replayable requests.
//
// Inputs arrive validated and normalised by src/net/validate.ts; the checks
// here are a second line of defence so that no JavaScript value can make the
// addon build a message the TypeScript layer would have refused.
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
// JavaScript specs -> request structs

Napi::Value Field(const Napi::Object& spec, const char* name) { return spec.Get(name); }

bool Given(const Napi::Value& value) { return !value.IsUndefined() && !value.IsNull(); }

uint32_t ReadInteger(Napi::Env env, const Napi::Value& value, const char* field, double min, double max) {
  if (!value.IsNumber()) ThrowTypeError(env, field, "must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= min && number <= max) || std::floor(number) != number) {
    ThrowRangeError(env, field,
                    "must be an integer from " + std::to_string(static_cast<uint64_t>(min)) + " to " +
                        std::to_string(static_cast<uint64_t>(max)));
  }
  return static_cast<uint32_t>(number);
}

uint32_t ReadInteger(Napi::Env env, const Napi::Object& spec, const char* field, double min, double max,
                     uint32_t fallback) {
  Napi::Value value = Field(spec, field);
  return Given(value) ? ReadInteger(env, value, field, min, max) : fallback;
}

bool ReadBool(const Napi::Object& spec, const char* field) {
  Napi::Value value = Field(spec, field);
  return value.IsBoolean() && value.As<Napi::Boolean>().Value();
}

Op ReadOp(Napi::Env env, const Napi::Value& value) {
  std::string op = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (op == "add") return Op::kAdd;
  if (op == "delete") return Op::kDelete;
  ThrowTypeError(env, "op", "must be 'add' or 'delete'");
}

// Addresses also have 'replace' (set the lifetimes of an address, adding it if missing).
Op ReadAddressOp(Napi::Env env, const Napi::Value& value) {
  if (value.IsString() && value.As<Napi::String>().Utf8Value() == "replace") return Op::kReplace;
  return ReadOp(env, value);
}

Napi::Object ReadSpec(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) ThrowTypeError(env, "spec", "must be an object");
  return value.As<Napi::Object>();
}

uint8_t ReadFamily(Napi::Env env, const Napi::Object& spec) {
  Napi::Value value = Field(spec, "family");
  if (value.IsNumber()) {
    const double family = value.As<Napi::Number>().DoubleValue();
    if (family == 4) return AF_INET;
    if (family == 6) return AF_INET6;
  }
  ThrowTypeError(env, "family", "must be 4 or 6");
}

// Absent (family 0) when the field is not given and not required.
IpAddress ReadAddress(Napi::Env env, const Napi::Object& spec, const char* field, uint8_t family, bool required) {
  Napi::Value value = Field(spec, field);
  IpAddress address;
  if (!Given(value)) {
    if (required) ThrowTypeError(env, field, "is required");
    return address;
  }
  if (!value.IsString()) ThrowTypeError(env, field, "must be a string");
  const std::string text = value.As<Napi::String>().Utf8Value();
  if (inet_pton(family, text.c_str(), address.bytes) != 1) {
    ThrowTypeError(env, field, "\"" + text + "\" is not an IPv" + (family == AF_INET ? "4" : "6") + " address");
  }
  address.family = family;
  return address;
}

uint8_t ReadPrefix(Napi::Env env, const Napi::Object& spec, const char* field, uint8_t family) {
  return static_cast<uint8_t>(ReadInteger(env, spec, field, 0, netlink::AddressSize(family) * 8, 0));
}

constexpr double kMaxIndex = 0x7FFFFFFF;  // ifindex is an int
constexpr double kMaxU32 = 0xFFFFFFFFu;

netlink::AddressRequest ReadAddressRequest(Napi::Env env, const Napi::Object& spec) {
  netlink::AddressRequest request;
  request.index = ReadInteger(env, Field(spec, "index"), "index", 1, kMaxIndex);
  const uint8_t family = ReadFamily(env, spec);
  request.address = ReadAddress(env, spec, "address", family, true);
  if (!Given(Field(spec, "prefixLength"))) ThrowTypeError(env, "prefixLength", "is required");
  request.prefix_length = ReadPrefix(env, spec, "prefixLength", family);
  Napi::Value label = Field(spec, "label");
  if (Given(label)) {
    if (!label.IsString()) ThrowTypeError(env, "label", "must be a string");
    request.label = label.As<Napi::String>().Utf8Value();
    if (request.label.empty() || request.label.size() >= IFNAMSIZ || request.label.find('\0') != std::string::npos) {
      ThrowRangeError(env, "label", "must be 1 to 15 bytes");
    }
    if (family != AF_INET) ThrowTypeError(env, "label", "is IPv4 only");
  }
  request.nodad = family == AF_INET6 && ReadBool(spec, "nodad");
  const bool has_preferred = Given(Field(spec, "preferredLifetime"));
  const bool has_valid = Given(Field(spec, "validLifetime"));
  if (has_preferred || has_valid) {
    request.has_lifetimes = true;
    request.valid_lifetime = ReadInteger(env, spec, "validLifetime", 1, kMaxU32, netlink::kForever);
    request.preferred_lifetime =
        ReadInteger(env, spec, "preferredLifetime", 0, kMaxU32, has_valid ? request.valid_lifetime : netlink::kForever);
    if (request.preferred_lifetime > request.valid_lifetime) {
      ThrowRangeError(env, "preferredLifetime", "must not exceed validLifetime");
    }
  }
  return request;
}

netlink::RouteRequest ReadRouteRequest(Napi::Env env, Op op, const Napi::Object& spec) {
  const bool add = op == Op::kAdd;
  netlink::RouteRequest request;
  request.family = ReadFamily(env, spec);
  request.table = ReadInteger(env, spec, "table", 1, kMaxU32, RT_TABLE_MAIN);
  request.destination = ReadAddress(env, spec, "destination", request.family, false);
  request.destination_length = ReadPrefix(env, spec, "destinationLength", request.family);
  request.gateway = ReadAddress(env, spec, "gateway", request.family, false);
  request.output_index = ReadInteger(env, spec, "index", 1, kMaxIndex, 0);
  // A delete names only what it must match: scope "nowhere", protocol 0 and
  // type 0 are the kernel's wildcards.
  const uint8_t default_scope =
      !add ? RT_SCOPE_NOWHERE : request.gateway.present() ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  request.scope = static_cast<uint8_t>(ReadInteger(env, spec, "scope", 0, 255, default_scope));
  request.preferred_source = ReadAddress(env, spec, "source", request.family, false);
  request.protocol = static_cast<uint8_t>(ReadInteger(env, spec, "protocol", 0, 255, add ? RTPROT_STATIC : 0));
  request.type = add ? RTN_UNICAST : RTN_UNSPEC;
  request.onlink = ReadBool(spec, "onlink");
  request.has_priority = Given(Field(spec, "metric"));
  request.priority = ReadInteger(env, spec, "metric", 0, kMaxU32, 0);
  if (add && !request.gateway.present() && request.output_index == 0) {
    ThrowTypeError(env, "link", "a route needs an output link or a gateway");
  }
  return request;
}

netlink::RuleRequest ReadRuleRequest(Napi::Env env, const Napi::Object& spec) {
  netlink::RuleRequest request;
  request.family = ReadFamily(env, spec);
  request.source = ReadAddress(env, spec, "source", request.family, false);
  request.source_length = ReadPrefix(env, spec, "sourceLength", request.family);
  request.table = ReadInteger(env, Field(spec, "table"), "table", 1, kMaxU32);
  request.priority = ReadInteger(env, Field(spec, "priority"), "priority", 1, kMaxU32);
  return request;
}

uint8_t ReadFamilyFilter(Napi::Env env, const Napi::Object& filter) {
  return Given(Field(filter, "family")) ? ReadFamily(env, filter) : AF_UNSPEC;
}

Napi::Object ReadFilter(Napi::Env env, const Napi::CallbackInfo& info) {
  if (info.Length() == 0 || !Given(info[0])) return Napi::Object::New(env);
  if (!info[0].IsObject()) ThrowTypeError(env, "filter", "must be an object");
  return info[0].As<Napi::Object>();
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
// Exchanges that read replies.
//
// A "get" needs its reply, and a dump must report an error carried in
// NLMSG_DONE and NLM_F_DUMP_INTR, so the binding decodes replies itself; the
// send/receive loop is NlSocket::Exchange, the one the guard's changes use.

constexpr int kDumpAttempts = 4;

struct Exchange {
  std::vector<Message> replies;
  bool interrupted = false;  // NLM_F_DUMP_INTR: the kernel changed the data mid-dump
};

// Decodes one reply datagram into `exchange`: data messages are kept, the ACK
// (a get) or NLMSG_DONE (a dump) ends it, a NACK or an error in NLMSG_DONE
// fails it.
NlSocket::Progress Collect(const uint8_t* data, size_t length, uint32_t seq, bool dump, Exchange* exchange,
                           NlError* error) {
  std::vector<Message> batch;
  std::string why;
  if (!netlink::DecodeMessages(data, length, &batch, &why)) {
    error->err = EPROTO;
    error->syscall = "recvmsg";
    error->ext_ack = "malformed reply: " + why;
    return NlSocket::Progress::kFailed;
  }
  for (Message& message : batch) {
    if (message.seq != seq) continue;  // a notification, or a late reply to an exchange that timed out
    if (message.flags & NLM_F_DUMP_INTR) exchange->interrupted = true;
    switch (message.kind) {
      case Message::Kind::kError:
        error->err = message.error;
        error->syscall = "rtnetlink";
        error->ext_ack = message.error_message;
        return NlSocket::Progress::kFailed;
      case Message::Kind::kAck:
        if (!dump) return NlSocket::Progress::kDone;
        break;
      case Message::Kind::kDone:
        if (message.error != 0) {
          error->err = message.error;
          error->syscall = "rtnetlink";
          error->ext_ack = message.error_message;
          return NlSocket::Progress::kFailed;
        }
        if (dump) return NlSocket::Progress::kDone;
        break;
      case Message::Kind::kOther:
        break;
      default:
        exchange->replies.push_back(std::move(message));
    }
  }
  return NlSocket::Progress::kMore;
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

  std::vector<Message> Query(Napi::Env env, const Bytes& request, bool dump) {
    Fd(env);
    NlError error;
    for (int attempt = 1;; ++attempt) {
      Exchange exchange;
      Bytes sent = request;
      const auto collect = [&](const uint8_t* data, size_t length, uint32_t seq, NlError* failure) {
        return Collect(data, length, seq, dump, &exchange, failure);
      };
      if (!socket_.Exchange(sent, dump ? NLM_F_DUMP : NLM_F_ACK, collect, &error)) {
        throw KernelError(env, error, request);
      }
      if (!exchange.interrupted) return std::move(exchange.replies);
      if (attempt == kDumpAttempts) {
        throw SystemError(env, EAGAIN, netlink::MessageTypeName(RequestType(request)),
                          "dump interrupted by concurrent changes " + std::to_string(attempt) + " times");
      }
    }
  }

  Napi::Value GetLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bytes request;
    if (info.Length() > 0 && info[0].IsString()) {
      const std::string name = info[0].As<Napi::String>().Utf8Value();
      if (name.empty() || name.size() >= IFNAMSIZ) ThrowRangeError(env, "link", "names are 1 to 15 bytes");
      request = netlink::EncodeGetLinkByName(name);
    } else if (info.Length() > 0 && info[0].IsNumber()) {
      request = netlink::EncodeGetLinkByIndex(ReadInteger(env, info[0], "link", 1, kMaxIndex));
    } else {
      ThrowTypeError(env, "link", "must be an interface name or index");
    }
    for (const Message& reply : Query(env, request, false)) {
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
    if (info.Length() == 0 || !info[0].IsString()) ThrowTypeError(env, "link", "must be an interface name");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    if (name.empty() || name.size() >= IFNAMSIZ) ThrowRangeError(env, "link", "names are 1 to 15 bytes");
    ifreq request{};
    memcpy(request.ifr_name, name.data(), name.size());
    if (ioctl(fd, SIOCGIFINDEX, &request) != 0) throw SystemError(env, errno, "SIOCGIFINDEX");
    return Napi::Number::New(env, request.ifr_ifindex);
  }

  Napi::Value NameOf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int fd = Fd(env);
    ifreq request{};
    request.ifr_ifindex = static_cast<int>(ReadInteger(env, info[0], "link", 1, kMaxIndex));
    if (ioctl(fd, SIOCGIFNAME, &request) != 0) throw SystemError(env, errno, "SIOCGIFNAME");
    return Napi::String::New(env, std::string(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ)));
  }

  Napi::Value ListLinks(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array links = Napi::Array::New(env);
    for (const Message& reply : Query(env, netlink::EncodeLinkDump(), true)) {
      if (reply.kind != Message::Kind::kLink || reply.link.family != AF_UNSPEC) continue;
      links.Set(links.Length(), LinkToJs(env, reply.link));
    }
    return links;
  }

  Napi::Value AddAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(), netlink::EncodeAddressRequest(Op::kAdd, ReadAddressRequest(info.Env(), ReadSpec(info.Env(), info[0]))));
    return info.Env().Undefined();
  }

  Napi::Value ReplaceAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(),
           netlink::EncodeAddressRequest(Op::kReplace, ReadAddressRequest(info.Env(), ReadSpec(info.Env(), info[0]))));
    return info.Env().Undefined();
  }

  Napi::Value DeleteAddress(const Napi::CallbackInfo& info) {
    Change(info.Env(),
           netlink::EncodeAddressRequest(Op::kDelete, ReadAddressRequest(info.Env(), ReadSpec(info.Env(), info[0]))));
    return info.Env().Undefined();
  }

  Napi::Value ListAddresses(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object filter = ReadFilter(env, info);
    const uint8_t family = ReadFamilyFilter(env, filter);
    const uint32_t index = ReadInteger(env, filter, "index", 1, kMaxIndex, 0);
    Napi::Array addresses = Napi::Array::New(env);
    for (const Message& reply : Query(env, netlink::EncodeAddressDump(family, index), true)) {
      if (reply.kind != Message::Kind::kAddress) continue;
      // Older kernels ignore the dump filter; filtering again costs nothing.
      if (index != 0 && reply.address.index != index) continue;
      if (family != AF_UNSPEC && reply.address.family != family) continue;
      addresses.Set(addresses.Length(), AddressInfoToJs(env, reply.address));
    }
    return addresses;
  }

  Napi::Value AddRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRouteRequest(Op::kAdd, ReadRouteRequest(env, Op::kAdd, ReadSpec(env, info[0]))));
    return env.Undefined();
  }

  Napi::Value DeleteRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env,
           netlink::EncodeRouteRequest(Op::kDelete, ReadRouteRequest(env, Op::kDelete, ReadSpec(env, info[0]))));
    return env.Undefined();
  }

  Napi::Value ListRoutes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object filter = ReadFilter(env, info);
    const uint8_t family = ReadFamilyFilter(env, filter);
    const uint32_t table = ReadInteger(env, filter, "table", 1, kMaxU32, 0);
    Napi::Array routes = Napi::Array::New(env);
    std::vector<Message> replies;
    try {
      replies = Query(env, netlink::EncodeRouteDump(family, table), true);
    } catch (const Napi::Error& error) {
      // A filtered dump of a table that does not exist (yet) is ENOENT from
      // some kernels and families; to a caller that is simply "no routes".
      Napi::Value code = error.Value().Get("code");
      if (table != 0 && code.IsString() && code.As<Napi::String>().Utf8Value() == "ENOENT") return routes;
      throw;
    }
    for (const Message& reply : replies) {
      if (reply.kind != Message::Kind::kRoute) continue;
      if (table != 0 && reply.route.table != table) continue;
      if (family != AF_UNSPEC && reply.route.family != family) continue;
      routes.Set(routes.Length(), RouteToJs(env, reply.route));
    }
    return routes;
  }

  Napi::Value AddRule(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRuleRequest(Op::kAdd, ReadRuleRequest(env, ReadSpec(env, info[0]))));
    return env.Undefined();
  }

  Napi::Value DeleteRule(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Change(env, netlink::EncodeRuleRequest(Op::kDelete, ReadRuleRequest(env, ReadSpec(env, info[0]))));
    return env.Undefined();
  }

  Napi::Value ListRules(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object filter = ReadFilter(env, info);
    const uint8_t family = ReadFamilyFilter(env, filter);
    Napi::Array rules = Napi::Array::New(env);
    for (const Message& reply : Query(env, netlink::EncodeRuleDump(family), true)) {
      if (reply.kind != Message::Kind::kRule) continue;
      if (family != AF_UNSPEC && reply.rule.family != family) continue;
      rules.Set(rules.Length(), RuleToJs(env, reply.rule));
    }
    return rules;
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
  const Op op = ReadAddressOp(env, info[0]);
  return ToBuffer(env, netlink::EncodeAddressRequest(op, ReadAddressRequest(env, ReadSpec(env, info[1]))));
}

Napi::Value EncodeRouteRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Op op = ReadOp(env, info[0]);
  return ToBuffer(env, netlink::EncodeRouteRequest(op, ReadRouteRequest(env, op, ReadSpec(env, info[1]))));
}

Napi::Value EncodeRuleRequestJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Op op = ReadOp(env, info[0]);
  return ToBuffer(env, netlink::EncodeRuleRequest(op, ReadRuleRequest(env, ReadSpec(env, info[1]))));
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
