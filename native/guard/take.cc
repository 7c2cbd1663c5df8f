#include "take.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vip {
namespace guard {

namespace {

constexpr size_t kHeader = sizeof(nlmsghdr);

uint16_t TypeOf(const Bytes& message) {
  nlmsghdr header;
  memcpy(&header, message.data(), kHeader);
  return header.nlmsg_type;
}

// A whole nlmsghdr-framed message, nlmsg_len equal to its size.
bool Framed(const Bytes& message) {
  if (message.size() < kHeader) return false;
  nlmsghdr header;
  memcpy(&header, message.data(), kHeader);
  return header.nlmsg_len == message.size();
}

// Offset of IFA_CACHEINFO's payload in an address request, 0 when absent.
size_t FindCacheinfo(const Bytes& message) {
  size_t offset = kHeader + NLMSG_ALIGN(sizeof(ifaddrmsg));
  while (offset + sizeof(rtattr) <= message.size()) {
    rtattr attr;
    memcpy(&attr, message.data() + offset, sizeof(attr));
    if (attr.rta_len < sizeof(rtattr) || offset + attr.rta_len > message.size()) return 0;
    if (attr.rta_type == IFA_CACHEINFO && attr.rta_len == RTA_LENGTH(sizeof(ifa_cacheinfo))) return offset + RTA_LENGTH(0);
    offset += RTA_ALIGN(attr.rta_len);
  }
  return 0;
}

void SetLifetime(Bytes* message, size_t cacheinfo, uint32_t lifetime) {
  ifa_cacheinfo info;
  memcpy(&info, message->data() + cacheinfo, sizeof(info));
  info.ifa_prefered = lifetime;
  info.ifa_valid = lifetime;
  memcpy(message->data() + cacheinfo, &info, sizeof(info));
}

// RTM_NEWADDR with NLM_F_CREATE | NLM_F_REPLACE: sets the lifetime of an existing address.
void MakeReplace(Bytes* message) {
  nlmsghdr header;
  memcpy(&header, message->data(), kHeader);
  header.nlmsg_flags = static_cast<uint16_t>((header.nlmsg_flags & ~NLM_F_EXCL) | NLM_F_REPLACE | NLM_F_CREATE);
  memcpy(message->data(), &header, kHeader);
}

std::string Describe(const NlError& error) {
  std::string text = strerror(error.err);
  if (!error.ext_ack.empty()) text += " (" + error.ext_ack + ")";
  return text;
}

}  // namespace

bool ParseLifetime(const std::string& text, uint32_t* lifetime) {
  if (text == "inf") {
    *lifetime = kForever;
    return true;
  }
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  unsigned long long value = strtoull(text.c_str(), nullptr, 10);
  if (value < 1 || value >= kForever) return false;
  *lifetime = static_cast<uint32_t>(value);
  return true;
}

TakePlan::~TakePlan() {
  if (packet_fd_ >= 0) close(packet_fd_);
}

void TakePlan::Clear() {
  steps_.clear();
  frames_.clear();  // the socket stays open for the next plan
}

bool TakePlan::AddStep(Bytes add, Bytes undo, std::string* why) {
  if (!Framed(add) || !Framed(undo)) {
    *why = "bad step: not a netlink message";
    return false;
  }
  const uint16_t type = TypeOf(add);
  const uint16_t undo_type = TypeOf(undo);
  const bool pair = (type == RTM_NEWADDR && undo_type == RTM_DELADDR) || (type == RTM_NEWROUTE && undo_type == RTM_DELROUTE) ||
                    (type == RTM_NEWRULE && undo_type == RTM_DELRULE);
  if (!pair) {
    *why = "bad step: expected an add and its delete";
    return false;
  }
  Step step;
  if (type == RTM_NEWADDR) {
    if (add.size() < kHeader + sizeof(ifaddrmsg)) {
      *why = "bad step: short address request";
      return false;
    }
    ifaddrmsg header;
    memcpy(&header, add.data() + kHeader, sizeof(header));
    step.address = true;
    step.family = header.ifa_family;
    step.cacheinfo = FindCacheinfo(add);
    if (step.cacheinfo == 0) {
      *why = "bad step: an address add needs IFA_CACHEINFO (the lifetime TAKE fills in)";
      return false;
    }
  }
  step.add = std::move(add);
  step.undo = std::move(undo);
  steps_.push_back(std::move(step));
  return true;
}

bool TakePlan::AddFrame(int ifindex, Bytes frame, std::string* why) {
  if (frame.size() < ETH_HLEN || frame.size() > 1514) {
    *why = "bad frame: length";
    return false;
  }
  if (packet_fd_ < 0) {
    // Protocol 0: this socket only sends, so the kernel queues nothing to it.
    packet_fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (packet_fd_ < 0) {
      *why = std::string("packet socket: ") + strerror(errno);
      return false;
    }
  }
  frames_.push_back({ifindex, std::move(frame)});
  return true;
}

TakeOutcome TakePlan::Run(NlSocket& netlink, uint32_t lifetime, double (*now)()) {
  TakeOutcome outcome;
  outcome.armed_at = now();
  std::vector<size_t> added;
  for (size_t i = 0; i < steps_.size() && outcome.err == 0; i++) {
    const Step& step = steps_[i];
    Bytes message = step.add;
    if (step.address) SetLifetime(&message, step.cacheinfo, lifetime);
    NlError error;
    if (netlink.Request(message, &error)) {
      added.push_back(i);
      continue;
    }
    if (error.err != EEXIST) {
      outcome.err = error.err;
      outcome.message = Describe(error);
    } else if (step.address && lifetime != kForever) {
      if (step.family == AF_INET6) {
        outcome.err = EEXIST;
        outcome.message = "an IPv6 VIP is already on the interface: the host checks whose";
        continue;
      }
      // IPv4 keeps addresses per (address, prefix length): it is ours; give it the lifetime.
      Bytes replace = step.add;
      SetLifetime(&replace, step.cacheinfo, lifetime);
      MakeReplace(&replace);
      NlError replace_error;
      if (!netlink.Request(replace, &replace_error)) {
        outcome.err = replace_error.err;
        outcome.message = Describe(replace_error);
      }
    }
    // else: already there, as wanted (not ours to undo)
  }
  if (outcome.err != 0) {
    for (auto it = added.rbegin(); it != added.rend(); ++it) {
      Bytes undo = steps_[*it].undo;
      NlError ignored;
      netlink.Request(undo, &ignored);  // best effort: the add's error is the one to report
    }
    return outcome;
  }
  outcome.added_at = now();
  for (const Frame& frame : frames_) {
    sockaddr_ll address;
    memset(&address, 0, sizeof(address));
    address.sll_family = AF_PACKET;
    address.sll_ifindex = frame.ifindex;
    address.sll_protocol = htons(static_cast<uint16_t>((frame.data[12] << 8) | frame.data[13]));
    address.sll_halen = ETH_ALEN;
    memcpy(address.sll_addr, frame.data.data(), ETH_ALEN);
    ssize_t sent;
    do {
      sent = sendto(packet_fd_, frame.data.data(), frame.data.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    } while (sent < 0 && errno == EINTR);
    const bool ok = sent == static_cast<ssize_t>(frame.data.size());
    if (ok && outcome.first_frame_at == 0) outcome.first_frame_at = now();
    outcome.sent.push_back(ok ? '1' : '0');
  }
  outcome.ok = true;
  return outcome;
}

}  // namespace guard
}  // namespace vip
