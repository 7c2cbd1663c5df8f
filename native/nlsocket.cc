#include "nlsocket.h"

#include <errno.h>
#include <stddef.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netns.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

namespace vip {

NlSocket::~NlSocket() { Close(); }

void NlSocket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // The receive buffer goes with the socket: the JS wrapper that owns this
  // object may wait for a major GC before its destructor runs, and V8 does not
  // count this memory (docs/reliability.md, "Soak"). Open() sizes it again.
  std::vector<uint8_t>().swap(buffer_);
}

bool NlSocket::Open(const std::string& netns_path, const std::vector<uint32_t>& groups,
                    NlError* error, int receive_timeout_ms) {
  Close();
  const char* syscall = "socket";
  int err = 0;
  int fd = SocketInNetns(netns_path, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, &err, &syscall);
  if (fd < 0) {
    error->err = err;
    error->syscall = syscall;
    return false;
  }
  int one = 1;
  // Best effort: older kernels lack these, and requests still work without them.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
  if (receive_timeout_ms > 0) {
    timeval tv{receive_timeout_ms / 1000, (receive_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    error->err = errno;
    error->syscall = "bind";
    close(fd);
    return false;
  }
  for (uint32_t group : groups) {
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) != 0) {
      error->err = errno;
      error->syscall = "setsockopt";
      close(fd);
      return false;
    }
  }
  fd_ = fd;
  buffer_.resize(64 * 1024);
  return true;
}

bool NlSocket::Send(std::vector<uint8_t>& msg, uint16_t extra_flags, NlError* error) {
  if (fd_ < 0) {
    error->err = EBADF;
    error->syscall = "sendto";
    return false;
  }
  if (msg.size() < sizeof(nlmsghdr)) {
    error->err = EINVAL;
    error->syscall = "sendto";
    return false;
  }
  nlmsghdr* header = reinterpret_cast<nlmsghdr*>(msg.data());
  header->nlmsg_len = static_cast<uint32_t>(msg.size());
  header->nlmsg_flags |= NLM_F_REQUEST | extra_flags;
  header->nlmsg_seq = ++seq_;
  header->nlmsg_pid = 0;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    error->err = errno;
    error->syscall = "sendto";
    return false;
  }
  return true;
}

std::string ParseExtAck(const nlmsghdr* header) {
  if (!(header->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  // Every length below comes from the message itself: compare by subtraction
  // (no overflow), read headers with memcpy (the echoed request may leave the
  // TLVs unaligned in a malformed message).
  const size_t length = header->nlmsg_len;
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (length < offset) return "";
  const uint8_t* base = reinterpret_cast<const uint8_t*>(header);
  if (!(header->nlmsg_flags & NLM_F_CAPPED)) {
    // The original request was echoed in full: skip its payload too (the
    // kernel pads it to NLMSG_ALIGNTO before the TLVs).
    nlmsghdr echoed;
    memcpy(&echoed, base + NLMSG_HDRLEN + offsetof(nlmsgerr, msg), sizeof(echoed));
    if (echoed.nlmsg_len < NLMSG_HDRLEN) return "";
    const size_t rest = ((static_cast<size_t>(echoed.nlmsg_len) + NLMSG_ALIGNTO - 1) & ~static_cast<size_t>(NLMSG_ALIGNTO - 1)) - NLMSG_HDRLEN;
    if (rest > length - offset) return "";
    offset += rest;
  }
  while (length - offset >= sizeof(nlattr)) {
    nlattr attr;
    memcpy(&attr, base + offset, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || attr.nla_len > length - offset) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(base + offset + NLA_HDRLEN);
      return std::string(text, strnlen(text, attr.nla_len - NLA_HDRLEN));
    }
    const size_t step = NLA_ALIGN(attr.nla_len);
    if (step >= length - offset) break;
    offset += step;
  }
  return "";
}

bool NlSocket::Exchange(std::vector<uint8_t>& msg, uint16_t flags, const ReplyHandler& handler, NlError* error) {
  if (!Send(msg, flags, error)) return false;
  const uint32_t seq = seq_;
  for (;;) {
    iovec io{buffer_.data(), buffer_.size()};
    msghdr header{};
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    const ssize_t got = recvmsg(fd_, &header, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      // SO_RCVTIMEO expired: say what happened rather than "try again".
      error->err = errno == EAGAIN ? ETIMEDOUT : errno;
      error->syscall = "recvmsg";
      return false;
    }
    if (header.msg_flags & MSG_TRUNC) {
      error->err = EMSGSIZE;
      error->syscall = "recvmsg";
      return false;
    }
    switch (handler(buffer_.data(), static_cast<size_t>(got), seq, error)) {
      case Progress::kMore:
        break;
      case Progress::kDone:
        return true;
      case Progress::kFailed:
        return false;
    }
  }
}

// NLMSG_OK without its int/__u32 comparison (clang -Wsign-compare warns in
// the macro's expansion): the header fits and its length fits what is left.
static bool MessageFits(const nlmsghdr* h, int remaining) {
  return remaining >= static_cast<int>(NLMSG_HDRLEN) && h->nlmsg_len >= NLMSG_HDRLEN &&
         h->nlmsg_len <= static_cast<uint32_t>(remaining);
}

// The ACK (or NACK) for `seq` in one datagram; everything else is skipped.
static NlSocket::Progress AckOf(const uint8_t* data, size_t length, uint32_t seq, NlError* error) {
  int remaining = static_cast<int>(length);
  for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(data); MessageFits(h, remaining);
       h = NLMSG_NEXT(h, remaining)) {
    if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) continue;
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
      error->err = EPROTO;
      error->syscall = "recvmsg";
      return NlSocket::Progress::kFailed;
    }
    const nlmsgerr* nack = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
    if (nack->error == 0) return NlSocket::Progress::kDone;
    error->err = -nack->error;
    error->syscall = "rtnetlink";
    error->ext_ack = ParseExtAck(h);
    return NlSocket::Progress::kFailed;
  }
  return NlSocket::Progress::kMore;
}

bool NlSocket::Request(std::vector<uint8_t>& msg, NlError* error) {
  return Exchange(msg, NLM_F_ACK, AckOf, error);
}

}  // namespace vip
