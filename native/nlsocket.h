// A raw rtnetlink socket: open (optionally inside another network namespace),
// send a request and read its replies. No Node types here, so the guard
// executable links the very same code as the addon. Replies are read by the
// pure codec's reply loop (netlink::RunReplies): the guard's changes wait for
// their ACK through it (Request), the binding's gets and dumps also take their
// data messages from it (Exchange).
#pragma once
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "netlink.h"
#include "owns_fd.h"

namespace vip {

struct NlError {
  int err = 0;                // positive errno
  std::string syscall;        // "socket", "sendto", "recvmsg", "setns", ...
  std::string ext_ack;        // the kernel's extended-ACK message, when it gave one
  bool has_ext_ack_offset = false;  // NLMSGERR_ATTR_OFFS: the refused attribute's
  uint32_t ext_ack_offset = 0;      // byte offset in the request
};

class NlSocket : OwnsFd {
 public:
  NlSocket() = default;
  ~NlSocket();

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

  // Sends `msg` with NLM_F_REQUEST | `flags` and the next sequence number, then
  // runs every datagram received through netlink::RunReplies (the one reply
  // loop) until it ends the exchange: true at `until`, false with *error on a
  // refusal (syscall "rtnetlink") or a malformed reply (EPROTO, "recvmsg").
  // Receive errors, a truncated datagram (EMSGSIZE) and the receive timeout
  // (ETIMEDOUT) end the exchange too. *interrupted (when given) says whether a
  // reply carried NLM_F_DUMP_INTR.
  bool Exchange(std::vector<uint8_t>& msg, uint16_t flags, netlink::Until until, const netlink::DataCallback& on_data,
                NlError* error, bool* interrupted = nullptr);

 private:
  bool Send(std::vector<uint8_t>& msg, uint16_t extra_flags, NlError* error);
  int fd_ = -1;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace vip
