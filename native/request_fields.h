// The request objects of src/net/request-fields.ts -> the codec's request
// structs, through one mechanical field table per request (request_fields.cc).
//
// TypeScript decides what a request means: every default, every wildcard and
// every policy check happens there, and it passes every field explicitly
// (null: not in the message). Here each field is only read and checked against
// its C type: a missing, null-but-required or mistyped field is a bug on the
// TypeScript side, reported as a TypeError with code
// 'ERR_INTERNAL_REQUEST_FIELD', never as a default.
#pragma once
#include <napi.h>

#include "netlink.h"

namespace vip {

[[noreturn]] void ThrowInternalField(Napi::Env env, const std::string& field, const std::string& what);

// 'add' | 'delete', and for addresses also 'replace'.
netlink::Op ReadOpField(Napi::Env env, const Napi::Value& value, bool replace_allowed);

netlink::AddressRequest ReadAddressFields(Napi::Env env, const Napi::Value& spec);
netlink::RouteRequest ReadRouteFields(Napi::Env env, const Napi::Value& spec);
netlink::RuleRequest ReadRuleFields(Napi::Env env, const Napi::Value& spec);

// A dump's filter; 0 in a field: no filter on it.
struct DumpFilter {
  uint8_t family = 0;  // AF_UNSPEC: every family
  uint32_t index = 0;  // addresses: the link's ifindex
  uint32_t table = 0;  // routes
};
// { family } for links and rules, { family, index } for addresses, { family, table } for routes.
DumpFilter ReadAddressFilterFields(Napi::Env env, const Napi::Value& filter);
DumpFilter ReadRouteFilterFields(Napi::Env env, const Napi::Value& filter);
DumpFilter ReadRuleFilterFields(Napi::Env env, const Napi::Value& filter);

}  // namespace vip
