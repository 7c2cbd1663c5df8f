// Decoded rtnetlink messages as JavaScript objects, shared by the socket
// binding (netlink_binding.cc, which defines these) and the monitor
// (monitor.cc). The shapes match src/net/types.ts.
#pragma once
#include <napi.h>

#include "netlink.h"

namespace vip {

// '192.0.2.10' / '2001:db8::10' (inet_ntop), or undefined when absent.
Napi::Value AddressToJs(Napi::Env env, const netlink::IpAddress& address);

// LinkInfo, AddressInfo, RouteInfo, RuleInfo.
Napi::Object LinkToJs(Napi::Env env, const netlink::Link& link);
Napi::Object AddressInfoToJs(Napi::Env env, const netlink::Address& address);
Napi::Object RouteToJs(Napi::Env env, const netlink::Route& route);
Napi::Object RuleToJs(Napi::Env env, const netlink::Rule& rule);
// { index, family, address, mac?, state } (state: NUD_* bits).
Napi::Object NeighbourToJs(Napi::Env env, const netlink::Neighbour& neighbour);

// { type: 'link'|'address'|'route'|'rule'|'neighbour'|'ack'|'error'|'done'|'other',
//   action?: 'add'|'change'|'delete', messageType, flags, seq,
//   link? | address? | route? | rule? | errno?, code?, message? }
// A link's action is 'add' when the kernel flags every field as changed
// (ifi_change == ~0, how it announces a new device), else 'change'.
Napi::Object MessageToJs(Napi::Env env, const netlink::Message& message);

}  // namespace vip
