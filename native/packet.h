// AF_PACKET sockets for sending announcement frames and capturing neighbour
// discovery traffic. The helpers here are plain syscalls without Node types;
// packet.cc also holds the JavaScript classes (PacketSocket, PacketCapture).
#pragma once
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

#include <string>
#include <vector>

#include "frames.h"

namespace vip {
namespace packet {

struct Failure {
  int err = 0;                  // positive errno
  const char* syscall = "";
  std::string detail;
};

struct Link {
  int index = 0;
  std::string name;
  frames::Mac mac{};
  unsigned short hardware_type = 0;  // ARPHRD_*
};

// Opens a SOCK_RAW packet socket in `netns_path` (empty: our namespace) that
// receives nothing yet (protocol 0): binding picks the protocol later, after a
// filter is attached, so no unfiltered frame is ever queued.
int Open(const std::string& netns_path, bool nonblocking, Failure* failure);

// Resolves a link by name (when `name` is not empty) or index with ioctls on
// `fd`, which act in the socket's own namespace, and reads its hardware address.
bool ResolveLink(int fd, const std::string& name, int index, Link* link, Failure* failure);

// Binds to the link; `protocol` is an ETH_P_* value in host order (0: send only).
bool Bind(int fd, int ifindex, uint16_t protocol, Failure* failure);

// Attaches a classic BPF program (capture_filter.h) to the socket.
bool AttachFilter(int fd, const std::vector<sock_filter>& program, Failure* failure);

// Sends one complete Ethernet frame out of `ifindex`.
bool Send(int fd, int ifindex, const uint8_t* frame, size_t length, Failure* failure);

// Milliseconds on CLOCK_MONOTONIC, the clock of monotonicNow() in src/clock.ts.
double MonotonicMs();

// The kernel's receive timestamp (SCM_TIMESTAMPNS) of a message read at
// `read_at` (MonotonicMs), on the same monotonic scale. False when the message
// carries none or the wall clock moved too far to trust the conversion.
bool ArrivalMs(const msghdr* message, double read_at, double* arrived_at);

}  // namespace packet
}  // namespace vip
