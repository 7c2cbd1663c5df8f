// A raw rtnetlink socket: open (optionally inside another network namespace),
// send a request and read its replies. No Node types here, so the guard
// executable links the very same code as the addon. The guard only sends
// changes and waits for the ACK (Request); the binding's gets and dumps decode
// the replies themselves, through the same receive loop (Exchange).
#pragma once
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

namespace vip {

struct NlError {
  int err = 0;                // positive errno
  std::string syscall;        // "socket", "sendto", "recvmsg", "setns", ...
  std::string ext_ack;        // the kernel's extended-ACK message, when it gave one
};

class NlSocket {
 public:
  NlSocket() = default;
  ~NlSocket();
  NlSocket(const NlSocket&) = delete;
  NlSocket& operator=(const NlSocket&) = delete;

  // Opens a NETLINK_ROUTE socket in `netns_path` (empty: the caller's
  // namespace), subscribed to the multicast `groups` (RTNLGRP_* numbers, may be
  // empty), with extended ACKs and strict dump checking turned on. The receive
  // timeout bounds how long a request may block the calling thread.
  bool Open(const std::string& netns_path, const std::vector<uint32_t>& groups, NlError* error,
            int receive_timeout_ms = 2000);
  void Close();
  bool IsOpen() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Hands the descriptor to a new owner (an FdWatch, which closes it); this
  // socket is closed afterwards and sends nothing more.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Sends `msg` (a complete nlmsghdr + payload; seq and NLM_F_ACK are set here)
  // and waits for the kernel's ACK. Returns false with *error on a NACK.
  bool Request(std::vector<uint8_t>& msg, NlError* error);

  // What a reply handler makes of one datagram.
  enum class Progress { kMore, kDone, kFailed };
  // Called with each datagram received after the request and the request's
  // sequence number; it must skip messages with another sequence number
  // (multicast notifications, late replies to an exchange that timed out) and
  // fill *error when it returns kFailed.
  using ReplyHandler = std::function<Progress(const uint8_t* data, size_t length, uint32_t seq, NlError* error)>;

  // Sends `msg` with NLM_F_REQUEST | `flags` and the next sequence number, then
  // hands every datagram to `handler` until it returns kDone (true) or kFailed
  // (false). Receive errors, a truncated datagram (EMSGSIZE) and the receive
  // timeout (ETIMEDOUT) end the exchange too.
  bool Exchange(std::vector<uint8_t>& msg, uint16_t flags, const ReplyHandler& handler, NlError* error);

 private:
  bool Send(std::vector<uint8_t>& msg, uint16_t extra_flags, NlError* error);
  int fd_ = -1;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buffer_;
};

// Parses the extended-ACK TLVs that follow a struct nlmsgerr (NETLINK_CAP_ACK on)
// and returns NLMSGERR_ATTR_MSG, or "". Pure; exposed for tests and fuzzing.
std::string ParseExtAck(const nlmsghdr* header);

}  // namespace vip
