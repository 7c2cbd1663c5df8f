// The JavaScript face of frames.h: the builders over Buffers, and the parsed
// frame as a plain object (also used by the capture socket in packet.cc).
#pragma once
#include <napi.h>

#include "frames.h"

namespace vip {

// { kind: 'arp-request' | 'arp-reply' | 'neighbour-advertisement' |
//   'neighbour-solicitation' | 'other', source, destination, ethertype, ... }
// with MACs as 'aa:bb:cc:dd:ee:ff' and addresses in their usual text form.
Napi::Object ParsedFrameToObject(Napi::Env env, const frames::ParsedFrame& frame, size_t length);

// 'aa:bb:cc:dd:ee:ff'
std::string FormatMac(const frames::Mac& mac);

}  // namespace vip
