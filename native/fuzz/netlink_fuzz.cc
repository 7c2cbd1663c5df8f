// libFuzzer harness for the rtnetlink decoders and the reply loop the socket
// runs every datagram through (native/netlink.cc). Not part of binding.gyp:
// build and run with native/fuzz/run.sh (clang, ASan, UBSan).
//
// Properties checked beyond "no crash, no out-of-bounds read":
//  - a decoded message never claims a prefix longer than its family allows,
//    and every address it reports has the message's family;
//  - decoding is deterministic (twice the same input, the same result);
//  - the reply loop agrees with the batch decoder: on input the decoder
//    accepts, RunReplies (for a request and for a dump) ends where and how the
//    decoded messages say it must, and never calls the input malformed.
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "../netlink.h"
#include "fuzz_support.h"

using vip::netlink::IpAddress;
using vip::netlink::Message;

using vip_fuzz::Check;

static void CheckAddress(const IpAddress& address, uint8_t family) {
  Check(!address.present() || address.family == family, "address family matches the message");
}

static void CheckMessage(const Message& m) {
  switch (m.kind) {
    case Message::Kind::kAddress:
      Check(m.address.prefix_length <= vip::netlink::AddressSize(m.address.family) * 8, "address prefix fits");
      CheckAddress(m.address.address, m.address.family);
      break;
    case Message::Kind::kRoute:
      Check(m.route.destination_length <= vip::netlink::AddressSize(m.route.family) * 8, "route prefix fits");
      CheckAddress(m.route.destination, m.route.family);
      CheckAddress(m.route.gateway, m.route.family);
      CheckAddress(m.route.preferred_source, m.route.family);
      break;
    case Message::Kind::kRule:
      Check(m.rule.source_length <= vip::netlink::AddressSize(m.rule.family) * 8, "rule prefix fits");
      CheckAddress(m.rule.source, m.rule.family);
      break;
    case Message::Kind::kLink:
      Check(m.link.mac.size() <= 32, "hardware address fits MAX_ADDR_LEN");
      break;
    case Message::Kind::kNeighbour:
      Check(vip::netlink::AddressSize(m.neighbour.family) != 0, "neighbour family is IPv4 or IPv6");
      CheckAddress(m.neighbour.destination, m.neighbour.family);
      Check(m.neighbour.lladdr.size() <= 32, "neighbour lladdr fits MAX_ADDR_LEN");
      break;
    case Message::Kind::kError:
      Check(m.error > 0 && m.error <= 4095, "errno in range");
      break;
    default:
      break;
  }
}

using vip::netlink::Progress;
using vip::netlink::ReplyState;
using vip::netlink::Until;

// What the decoded messages say the loop must end with.
static Progress Expected(const std::vector<Message>& messages, uint32_t seq, Until until, int* error, bool* interrupted) {
  for (const Message& m : messages) {
    if (m.seq != seq) continue;
    if (m.flags & NLM_F_DUMP_INTR) *interrupted = true;
    if ((m.kind == Message::Kind::kError || m.kind == Message::Kind::kDone) && m.error != 0) {
      *error = m.error;
      return Progress::kFailed;
    }
    if (m.kind == Message::Kind::kAck && until == Until::kAck) return Progress::kDone;
    if (m.kind == Message::Kind::kDone && until == Until::kDone) return Progress::kDone;
  }
  return Progress::kMore;
}

static void CheckReplyLoop(const std::vector<uint8_t>& bytes, uint32_t seq, Until until, const std::vector<Message>* decoded) {
  size_t handed = 0;
  const vip::netlink::DataCallback check = [&handed, seq](const uint8_t* data, size_t size, std::string* why) {
    Message m;
    if (!vip::netlink::DecodeMessage(data, size, &m, why)) {
      Check(!why->empty(), "a rejection says why");
      return false;
    }
    Check(m.seq == seq, "only our own messages reach the callback");
    Check(m.type >= NLMSG_MIN_TYPE, "only data messages reach the callback");
    CheckMessage(m);
    ++handed;
    return true;
  };
  ReplyState state;
  const Progress progress = vip::netlink::RunReplies(bytes.data(), bytes.size(), seq, until, check, &state);
  if (progress == Progress::kFailed) {
    Check(state.malformed ? !state.why.empty() : state.error > 0 && state.error <= 4095, "a failure says why");
  } else {
    Check(!state.malformed && state.error == 0, "no failure recorded unless failed");
  }
  if (decoded == nullptr) return;
  int error = 0;
  bool interrupted = false;
  const Progress expected = Expected(*decoded, seq, until, &error, &interrupted);
  Check(!state.malformed, "input the decoder accepts is not malformed to the loop");
  Check(progress == expected, "the loop ends where the messages say");
  Check(state.error == error, "the loop reports the messages' error");
  Check(state.interrupted == interrupted, "NLM_F_DUMP_INTR noted exactly");
  (void)handed;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into an exactly-sized heap buffer so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data, data + size);
  std::vector<Message> first, second;
  std::string why_first, why_second;
  const bool ok = vip::netlink::DecodeMessages(bytes.data(), bytes.size(), &first, &why_first);
  const bool again = vip::netlink::DecodeMessages(bytes.data(), bytes.size(), &second, &why_second);
  Check(ok == again && first.size() == second.size() && why_first == why_second, "deterministic");
  if (ok) {
    for (const Message& m : first) CheckMessage(m);
  } else {
    Check(!why_first.empty(), "a rejection says why");
  }

  // The reply loop, for the sequence number of the first message (so that
  // some messages are ours), as a request and as a dump.
  if (size >= NLMSG_HDRLEN) {
    nlmsghdr first_header;
    memcpy(&first_header, bytes.data(), sizeof(first_header));
    for (const Until until : {Until::kAck, Until::kDone}) {
      CheckReplyLoop(bytes, first_header.nlmsg_seq, until, ok ? &first : nullptr);
    }
  }
  return 0;
}

#ifdef VIP_FUZZ_WRITE_SEEDS
// A seed corpus of well-formed messages built by the encoders: the fuzzer
// mutates from real shapes instead of discovering nlmsghdr from scratch.
int main(int argc, char** argv) {
  using namespace vip::netlink;
  std::vector<Bytes> seeds;
  AddressRequest v4;
  v4.index = 2;
  v4.prefix_length = 24;
  v4.address.family = AF_INET;
  memcpy(v4.address.bytes, "\xc0\x00\x02\x0a", 4);
  v4.label = "eth0:vip";
  seeds.push_back(EncodeAddressRequest(Op::kAdd, v4));
  AddressRequest v6;
  v6.index = 7;
  v6.prefix_length = 64;
  v6.address.family = AF_INET6;
  memcpy(v6.address.bytes, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10", 16);
  v6.nodad = true;
  v6.has_lifetimes = true;
  v6.preferred_lifetime = 100;
  v6.valid_lifetime = 200;
  seeds.push_back(EncodeAddressRequest(Op::kDelete, v6));
  RouteRequest route;
  route.table = 70000;
  route.gateway.family = AF_INET;
  memcpy(route.gateway.bytes, "\xc0\x00\x02\x01", 4);
  route.output_index = 3;
  route.has_priority = true;
  route.priority = 10;
  route.onlink = true;
  seeds.push_back(EncodeRouteRequest(Op::kAdd, route));
  RuleRequest rule;
  rule.source.family = AF_INET;
  memcpy(rule.source.bytes, "\xc0\x00\x02\x64", 4);
  rule.source_length = 32;
  rule.table = 100;
  rule.priority = 100;
  seeds.push_back(EncodeRuleRequest(Op::kAdd, rule));
  seeds.push_back(EncodeGetLinkByName("eth0"));
  // A NACK with extended-ACK text, as the kernel sends it (capped, with TLVs).
  const uint8_t nack[] = {0x30, 0, 0, 0, 2, 0, 0, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xff, 0xff, 0xff,
                          0x2c, 0, 0, 0, 0x14, 0, 5, 6, 5, 0, 0, 0, 0, 0, 0, 0,
                          9, 0, 1, 0, 'b', 'o', 'o', 'm', 0, 0, 0, 0};
  seeds.emplace_back(nack, nack + sizeof(nack));
  // The end of a dump that failed part-way: NLMSG_DONE with -EMSGSIZE and an
  // extended-ACK text (NLM_F_MULTI | NLM_F_ACK_TLVS), seq 5.
  const uint8_t done[] = {0x20, 0, 0, 0, 3, 0, 0x02, 0x02, 5, 0, 0, 0, 0, 0, 0, 0, 0xa6, 0xff, 0xff, 0xff,
                          9, 0, 1, 0, 'b', 'o', 'o', 'm', 0, 0, 0, 0};
  seeds.emplace_back(done, done + sizeof(done));
  // RTM_NEWNEIGH for 192.0.2.100 at 02:00:00:00:0b:01 (no encoder: by hand).
  const uint8_t neigh[] = {0x30, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 1,
                           8, 0, 1, 0, 192, 0, 2, 100,
                           10, 0, 2, 0, 2, 0, 0, 0, 0x0b, 0x01, 0, 0};
  seeds.emplace_back(neigh, neigh + sizeof(neigh));
  // A batch of everything.
  Bytes batch;
  for (const Bytes& seed : seeds) batch.insert(batch.end(), seed.begin(), seed.end());
  seeds.push_back(batch);
  return vip_fuzz::WriteSeeds(argc, argv, seeds);
}
#endif
