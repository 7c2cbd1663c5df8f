#include "nlsocket.h"

#include <errno.h>
#include <stddef.h>
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

bool NlSocket::Exchange(std::vector<uint8_t>& msg, uint16_t flags, netlink::Until until,
                        const netlink::DataCallback& on_data, NlError* error, bool* interrupted) {
  if (!Send(msg, flags, error)) return false;
  netlink::ReplyState state;
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
    const netlink::Progress progress =
        netlink::RunReplies(buffer_.data(), static_cast<size_t>(got), seq_, until, on_data, &state);
    if (interrupted != nullptr) *interrupted = state.interrupted;
    if (progress == netlink::Progress::kMore) continue;
    if (progress == netlink::Progress::kDone) return true;
    if (state.malformed) {
      error->err = EPROTO;
      error->syscall = "recvmsg";
      error->ext_ack = "malformed reply: " + state.why;
    } else {
      error->err = state.error;
      error->syscall = "rtnetlink";
      error->ext_ack = std::move(state.message);
      error->has_ext_ack_offset = state.has_offset;
      error->ext_ack_offset = state.offset;
    }
    return false;
  }
}

bool NlSocket::Request(std::vector<uint8_t>& msg, NlError* error) {
  return Exchange(msg, NLM_F_ACK, netlink::Until::kAck, {}, error);
}

}  // namespace vip
