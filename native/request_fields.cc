#include "request_fields.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <sys/socket.h>

#include <cmath>
#include <string>

namespace vip {

using netlink::IpAddress;

void ThrowInternalField(Napi::Env env, const std::string& field, const std::string& what) {
  Napi::TypeError error = Napi::TypeError::New(
      env, "internal error: request field '" + field + "' " + what + " (src/net/request-fields.ts builds every field)");
  error.Set("code", Napi::String::New(env, "ERR_INTERNAL_REQUEST_FIELD"));
  error.Set("field", Napi::String::New(env, field));
  throw error;
}

netlink::Op ReadOpField(Napi::Env env, const Napi::Value& value, bool replace_allowed) {
  const std::string op = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (op == "add") return netlink::Op::kAdd;
  if (op == "delete") return netlink::Op::kDelete;
  if (op == "replace" && replace_allowed) return netlink::Op::kReplace;
  ThrowInternalField(env, "op", replace_allowed ? "must be 'add', 'replace' or 'delete'" : "must be 'add' or 'delete'");
}

namespace {

// What a field holds, as the C struct and the wire need it. The bounds are the
// field's C type, nothing more: what a value means is TypeScript's business.
enum class Type : uint8_t {
  kFamily,   // 4 | 6 -> AF_INET | AF_INET6; the fields after it read addresses of that family
  kIfindex,  // 1 .. INT_MAX (ifindex is a C int; 0 would mean "no link", which is null)
  kU8,       // 0 .. 255
  kU32,      // 0 .. 2^32-1
  kPrefix,   // 0 .. the family's address bits
  kAddress,  // an address in the family's text form
  kLabel,    // 1 .. IFNAMSIZ-1 bytes without NUL
  kBool,
};

// kRequired: a value must be there. kNullable: null says "not in the message";
// undefined is never allowed, so a field TypeScript forgot is caught too.
enum class Presence : uint8_t { kRequired, kNullable };

// A field's value once read and checked against its type.
struct Value {
  uint32_t number = 0;  // kFamily (AF_INET/AF_INET6), kIfindex, kU8, kU32, kPrefix
  bool flag = false;    // kBool
  IpAddress address;    // kAddress
  std::string text;     // kLabel
};

// One row of a table: the JavaScript key, its type, and where the value goes
// (`store`, called only for a value that is there; a family row may have none,
// when it only says how to read the addresses after it).
template <typename Request>
struct Field {
  const char* name;
  Type type;
  Presence presence;
  void (*store)(Request& request, const Value& value);
};

constexpr Presence kRequired = Presence::kRequired;
constexpr Presence kNullable = Presence::kNullable;

// The tables: the same keys, in the same order, as src/net/request-fields.ts.
// `family` comes first where addresses follow, as they are read in its family.
using netlink::AddressRequest;
using netlink::RouteRequest;
using netlink::RuleRequest;
using A = AddressRequest;
using R = RouteRequest;
using U = RuleRequest;
using F = DumpFilter;
using V = Value;

const Field<AddressRequest> kAddressFields[] = {
    // The family travels in the address itself (IpAddress::family).
    {"family", Type::kFamily, kRequired, nullptr},
    {"index", Type::kIfindex, kRequired, [](A& r, const V& v) { r.index = v.number; }},
    {"address", Type::kAddress, kRequired, [](A& r, const V& v) { r.address = v.address; }},
    {"prefixLength", Type::kPrefix, kRequired, [](A& r, const V& v) { r.prefix_length = static_cast<uint8_t>(v.number); }},
    {"label", Type::kLabel, kNullable, [](A& r, const V& v) { r.label = v.text; }},
    {"nodad", Type::kBool, kRequired, [](A& r, const V& v) { r.nodad = v.flag; }},
    // IFA_CACHEINFO is sent when the lifetimes are not null (TypeScript sets both or neither).
    {"preferredLifetime", Type::kU32, kNullable, [](A& r, const V& v) { r.has_lifetimes = true; r.preferred_lifetime = v.number; }},
    {"validLifetime", Type::kU32, kNullable, [](A& r, const V& v) { r.has_lifetimes = true; r.valid_lifetime = v.number; }},
};

const Field<RouteRequest> kRouteFields[] = {
    {"family", Type::kFamily, kRequired, [](R& r, const V& v) { r.family = static_cast<uint8_t>(v.number); }},
    {"table", Type::kU32, kRequired, [](R& r, const V& v) { r.table = v.number; }},
    {"destination", Type::kAddress, kNullable, [](R& r, const V& v) { r.destination = v.address; }},
    {"destinationLength", Type::kPrefix, kRequired, [](R& r, const V& v) { r.destination_length = static_cast<uint8_t>(v.number); }},
    {"gateway", Type::kAddress, kNullable, [](R& r, const V& v) { r.gateway = v.address; }},
    {"index", Type::kIfindex, kNullable, [](R& r, const V& v) { r.output_index = v.number; }},
    {"scope", Type::kU8, kRequired, [](R& r, const V& v) { r.scope = static_cast<uint8_t>(v.number); }},
    {"source", Type::kAddress, kNullable, [](R& r, const V& v) { r.preferred_source = v.address; }},
    {"protocol", Type::kU8, kRequired, [](R& r, const V& v) { r.protocol = static_cast<uint8_t>(v.number); }},
    {"type", Type::kU8, kRequired, [](R& r, const V& v) { r.type = static_cast<uint8_t>(v.number); }},
    {"onlink", Type::kBool, kRequired, [](R& r, const V& v) { r.onlink = v.flag; }},
    {"metric", Type::kU32, kNullable, [](R& r, const V& v) { r.has_priority = true; r.priority = v.number; }},
};

const Field<RuleRequest> kRuleFields[] = {
    {"family", Type::kFamily, kRequired, [](U& r, const V& v) { r.family = static_cast<uint8_t>(v.number); }},
    {"source", Type::kAddress, kNullable, [](U& r, const V& v) { r.source = v.address; }},
    {"sourceLength", Type::kPrefix, kRequired, [](U& r, const V& v) { r.source_length = static_cast<uint8_t>(v.number); }},
    {"table", Type::kU32, kRequired, [](U& r, const V& v) { r.table = v.number; }},
    {"priority", Type::kU32, kRequired, [](U& r, const V& v) { r.priority = v.number; }},
};

// Filters: null is "no filter on this" (the zero the codec reads as such).
void StoreFamily(F& f, const V& v) { f.family = static_cast<uint8_t>(v.number); }
const Field<DumpFilter> kAddressFilterFields[] = {
    {"family", Type::kFamily, kNullable, StoreFamily},
    {"index", Type::kIfindex, kNullable, [](F& f, const V& v) { f.index = v.number; }},
};
const Field<DumpFilter> kRouteFilterFields[] = {
    {"family", Type::kFamily, kNullable, StoreFamily},
    {"table", Type::kU32, kNullable, [](F& f, const V& v) { f.table = v.number; }},
};
const Field<DumpFilter> kRuleFilterFields[] = {
    {"family", Type::kFamily, kNullable, StoreFamily},
};

uint32_t ReadNumber(Napi::Env env, const char* field, const Napi::Value& value, double min, double max) {
  if (!value.IsNumber()) ThrowInternalField(env, field, "must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= min && number <= max) || std::floor(number) != number) {
    ThrowInternalField(env, field,
                       "must be an integer from " + std::to_string(static_cast<uint64_t>(min)) + " to " +
                           std::to_string(static_cast<uint64_t>(max)));
  }
  return static_cast<uint32_t>(number);
}

std::string ReadText(Napi::Env env, const char* field, const Napi::Value& value) {
  if (!value.IsString()) ThrowInternalField(env, field, "must be a string");
  return value.As<Napi::String>().Utf8Value();
}

// The one reader: every row of the table, in order.
template <typename Request, size_t N>
Request ReadFields(Napi::Env env, const Napi::Value& value, const char* what, const Field<Request> (&table)[N]) {
  if (!value.IsObject()) ThrowInternalField(env, what, "must be an object");
  const Napi::Object object = value.As<Napi::Object>();
  Request request;
  uint8_t family = AF_UNSPEC;
  for (const Field<Request>& field : table) {
    const Napi::Value given = object.Get(field.name);
    if (given.IsUndefined()) ThrowInternalField(env, field.name, "is missing");
    if (given.IsNull()) {
      if (field.presence == Presence::kRequired) ThrowInternalField(env, field.name, "must not be null");
      continue;
    }
    Value read;
    switch (field.type) {
      case Type::kFamily: {
        const uint32_t number = ReadNumber(env, field.name, given, 4, 6);
        if (number == 5) ThrowInternalField(env, field.name, "must be 4 or 6");
        family = number == 4 ? AF_INET : AF_INET6;
        read.number = family;
        break;
      }
      case Type::kIfindex:
        read.number = ReadNumber(env, field.name, given, 1, 0x7FFFFFFF);
        break;
      case Type::kU8:
        read.number = ReadNumber(env, field.name, given, 0, 255);
        break;
      case Type::kU32:
        read.number = ReadNumber(env, field.name, given, 0, 0xFFFFFFFFu);
        break;
      case Type::kPrefix:
        if (family == AF_UNSPEC) ThrowInternalField(env, field.name, "comes before a family");
        read.number = ReadNumber(env, field.name, given, 0, netlink::AddressSize(family) * 8);
        break;
      case Type::kAddress: {
        if (family == AF_UNSPEC) ThrowInternalField(env, field.name, "comes before a family");
        const std::string text = ReadText(env, field.name, given);
        if (inet_pton(family, text.c_str(), read.address.bytes) != 1) {
          ThrowInternalField(env, field.name, "\"" + text + "\" is not an IPv" + (family == AF_INET ? "4" : "6") + " address");
        }
        read.address.family = family;
        break;
      }
      case Type::kLabel:
        read.text = ReadText(env, field.name, given);
        if (read.text.empty() || read.text.size() >= IFNAMSIZ || read.text.find('\0') != std::string::npos) {
          ThrowInternalField(env, field.name, "must be 1 to 15 bytes without NUL");
        }
        break;
      case Type::kBool:
        if (!given.IsBoolean()) ThrowInternalField(env, field.name, "must be a boolean");
        read.flag = given.As<Napi::Boolean>().Value();
        break;
    }
    if (field.store != nullptr) field.store(request, read);
  }
  return request;
}

}  // namespace

netlink::AddressRequest ReadAddressFields(Napi::Env env, const Napi::Value& spec) {
  return ReadFields(env, spec, "spec", kAddressFields);
}
netlink::RouteRequest ReadRouteFields(Napi::Env env, const Napi::Value& spec) {
  return ReadFields(env, spec, "spec", kRouteFields);
}
netlink::RuleRequest ReadRuleFields(Napi::Env env, const Napi::Value& spec) {
  return ReadFields(env, spec, "spec", kRuleFields);
}
DumpFilter ReadAddressFilterFields(Napi::Env env, const Napi::Value& filter) {
  return ReadFields(env, filter, "filter", kAddressFilterFields);
}
DumpFilter ReadRouteFilterFields(Napi::Env env, const Napi::Value& filter) {
  return ReadFields(env, filter, "filter", kRouteFilterFields);
}
DumpFilter ReadRuleFilterFields(Napi::Env env, const Napi::Value& filter) {
  return ReadFields(env, filter, "filter", kRuleFilterFields);
}

}  // namespace vip
