#include "packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "capture_filter.h"
#include "errors.h"
#include "fd_watch.h"
#include "frames_binding.h"
#include "netns.h"

namespace vip {
namespace packet {

namespace {
bool Fail(Failure* failure, const char* syscall, std::string detail = "") {
  failure->err = errno;
  failure->syscall = syscall;
  failure->detail = std::move(detail);
  return false;
}
}  // namespace

int Open(const std::string& netns_path, bool nonblocking, Failure* failure) {
  int err = 0;
  const char* syscall = "socket";
  int fd = SocketInNetns(netns_path, AF_PACKET, SOCK_RAW | (nonblocking ? SOCK_NONBLOCK : 0), 0, &err, &syscall);
  if (fd < 0) {
    failure->err = err;
    failure->syscall = syscall;
    failure->detail = netns_path.empty() ? "" : "netns " + netns_path;
  }
  return fd;
}

bool ResolveLink(int fd, const std::string& name, int index, Link* link, Failure* failure) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  if (!name.empty()) {
    if (name.size() >= IFNAMSIZ) {
      errno = EINVAL;
      return Fail(failure, "ioctl", "interface name too long: " + name);
    }
    memcpy(ifr.ifr_name, name.data(), name.size());
    if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
      return Fail(failure, "ioctl", (errno == ENODEV ? "no interface named '" : "SIOCGIFINDEX '") + name + "'");
    }
    link->index = ifr.ifr_ifindex;
  } else {
    ifr.ifr_ifindex = index;
    if (ioctl(fd, SIOCGIFNAME, &ifr) != 0) {
      return Fail(failure, "ioctl",
                  (errno == ENODEV ? "no interface with index " : "SIOCGIFNAME index ") + std::to_string(index));
    }
    link->index = index;
  }
  link->name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return Fail(failure, "ioctl", "SIOCGIFHWADDR " + link->name);
  link->hardware_type = ifr.ifr_hwaddr.sa_family;
  memcpy(link->mac.data(), ifr.ifr_hwaddr.sa_data, link->mac.size());
  return true;
}

bool Bind(int fd, int ifindex, uint16_t protocol, Failure* failure) {
  struct sockaddr_ll address;
  memset(&address, 0, sizeof(address));
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(protocol);
  address.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return Fail(failure, "bind");
  return true;
}

bool AttachFilter(int fd, const std::vector<sock_filter>& program, Failure* failure) {
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(program.size());
  fprog.filter = const_cast<struct sock_filter*>(program.data());
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) != 0) {
    return Fail(failure, "setsockopt", "SO_ATTACH_FILTER");
  }
  return true;
}

bool Send(int fd, int ifindex, const uint8_t* frame, size_t length, Failure* failure) {
  struct sockaddr_ll address;
  memset(&address, 0, sizeof(address));
  address.sll_family = AF_PACKET;
  address.sll_ifindex = ifindex;
  // SOCK_RAW sends the frame as is; the protocol only labels the skb (taps
  // and qdiscs see it), so take it from the frame's own ethertype.
  address.sll_protocol = htons(static_cast<uint16_t>((frame[12] << 8) | frame[13]));
  address.sll_halen = ETH_ALEN;
  memcpy(address.sll_addr, frame, ETH_ALEN);
  ssize_t sent;
  do {
    sent = sendto(fd, frame, length, 0, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return Fail(failure, "sendto");
  if (static_cast<size_t>(sent) != length) {
    errno = EIO;
    return Fail(failure, "sendto", "short send");
  }
  return true;
}

double MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

bool ArrivalMs(const msghdr* message, double read_at, double* arrived_at) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(message); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS || c->cmsg_len < CMSG_LEN(sizeof(timespec))) {
      continue;
    }
    timespec stamp;
    memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
    // The kernel stamps with CLOCK_REALTIME; carry the stamp's age over to
    // CLOCK_MONOTONIC by reading the real-time clock now (right after
    // `read_at`, so the two readings are well under a microsecond apart).
    timespec real_now;
    clock_gettime(CLOCK_REALTIME, &real_now);
    const double age_ms = static_cast<double>(real_now.tv_sec - stamp.tv_sec) * 1e3 +
                          static_cast<double>(real_now.tv_nsec - stamp.tv_nsec) / 1e6;
    if (age_ms < 0 || age_ms > 60e3) return false;  // the wall clock was stepped
    *arrived_at = read_at - age_ms;
    return true;
  }
  return false;
}

}  // namespace packet

namespace {

using packet::Failure;
using packet::Link;

Capability CapabilityFor(const Failure& failure) {
  // setns needs CAP_SYS_ADMIN; everything else on a packet socket CAP_NET_RAW.
  return strcmp(failure.syscall, "setns") == 0 ? Capability::kSysAdmin : Capability::kNetRaw;
}

[[noreturn]] void ThrowFailure(Napi::Env env, const Failure& failure) {
  throw SystemError(env, failure.err, failure.syscall, failure.detail, CapabilityFor(failure));
}

[[noreturn]] void ThrowClosed(Napi::Env env, const char* what) {
  Napi::Error error = Napi::Error::New(env, std::string(what) + " is closed");
  error.Set("code", Napi::String::New(env, "ERR_SOCKET_CLOSED"));
  throw error;
}

// The arguments both classes take: (link: string | number, netns: string).
struct LinkArguments {
  std::string name;
  int index = 0;
  std::string netns;
};

LinkArguments ReadLinkArguments(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LinkArguments out;
  if (info.Length() > 0 && info[0].IsString()) {
    out.name = info[0].As<Napi::String>().Utf8Value();
    if (out.name.empty() || out.name.size() >= IFNAMSIZ || out.name.find('\0') != std::string::npos) {
      ThrowRangeError(env, "link", "interface name must be 1-15 bytes, got '" + out.name + "'");
    }
  } else if (info.Length() > 0 && info[0].IsNumber()) {
    double index = info[0].As<Napi::Number>().DoubleValue();
    if (!(index >= 1 && index <= 2147483647) || index != static_cast<int>(index)) {
      ThrowRangeError(env, "link", "interface index must be an integer 1..2^31-1");
    }
    out.index = static_cast<int>(index);
  } else {
    ThrowTypeError(env, "link", "must be an interface name or index");
  }
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsString()) ThrowTypeError(env, "netns", "must be a path string");
    out.netns = info[1].As<Napi::String>().Utf8Value();
  }
  return out;
}

// Opens, resolves and binds, or throws with nothing left open. A capture gets
// `program` as its filter (it must not be empty).
int OpenBound(Napi::Env env, const LinkArguments& args, bool capture, Link* link,
              const std::vector<sock_filter>& program = {}) {
  Failure failure;
  int fd = packet::Open(args.netns, capture, &failure);
  if (fd < 0) ThrowFailure(env, failure);
  bool ok = packet::ResolveLink(fd, args.name, args.index, link, &failure);
  if (ok && link->hardware_type != ARPHRD_ETHER) {
    close(fd);
    ThrowRangeError(env, "link", "'" + link->name + "' is not an Ethernet link (ARPHRD " +
                                     std::to_string(link->hardware_type) + ")");
  }
  if (ok && capture) ok = packet::AttachFilter(fd, program, &failure);
  if (ok && capture) {
    // Best effort: with receive timestamps a frame's arrival is known even
    // when the event loop reads it late (arrivedAt); without, only `at`.
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
  }
  if (ok) ok = packet::Bind(fd, link->index, capture ? ETH_P_ALL : 0, &failure);
  if (!ok) {
    close(fd);
    ThrowFailure(env, failure);
  }
  return fd;
}

// addresses: Buffer[] of 4 (IPv4) or 16 (IPv6) bytes -> the per-address
// program, or an empty one if they do not fit in it.
std::vector<sock_filter> AddressProgramArgument(Napi::Value value) {
  Napi::Env env = value.Env();
  if (!value.IsArray()) ThrowTypeError(env, "addresses", "must be an array of 4- or 16-byte Buffers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<frames::Ipv4> v4;
  std::vector<frames::Ipv6> v6;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsBuffer()) ThrowTypeError(env, "addresses", "must be an array of 4- or 16-byte Buffers");
    Napi::Buffer<uint8_t> bytes = item.As<Napi::Buffer<uint8_t>>();
    if (bytes.Length() == 4) {
      frames::Ipv4 address;
      memcpy(address.data(), bytes.Data(), 4);
      v4.push_back(address);
    } else if (bytes.Length() == 16) {
      frames::Ipv6 address;
      memcpy(address.data(), bytes.Data(), 16);
      v6.push_back(address);
    } else {
      ThrowRangeError(env, "addresses", "each address must be 4 or 16 bytes, got " + std::to_string(bytes.Length()));
    }
  }
  return capture_filter::AddressProgram(v4, v6);
}

void SetLinkProperties(Napi::Object target, const Link& link) {
  Napi::Env env = target.Env();
  target.Set("ifindex", Napi::Number::New(env, link.index));
  target.Set("name", Napi::String::New(env, link.name));
  target.Set("mac", Napi::String::New(env, FormatMac(link.mac)));
}

// new PacketSocket(link, netns?): a send-only socket (protocol 0: it never
// queues received frames).
class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {InstanceMethod<&PacketSocket::SendFrame>("send"),
                        InstanceMethod<&PacketSocket::ReadLink>("readLink"),
                        InstanceMethod<&PacketSocket::Close>("close"),
                        InstanceAccessor<&PacketSocket::Closed>("closed")});
  }

  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Link link;
    const int fd = OpenBound(info.Env(), ReadLinkArguments(info), false, &link, {});
    try {
      SetLinkProperties(info.This().As<Napi::Object>(), link);
    } catch (...) {
      close(fd);  // a throwing constructor gets no destructor call
      throw;
    }
    fd_ = fd;
    ifindex_ = link.index;
    env_ = info.Env();
    napi_add_env_cleanup_hook(env_, OnEnvTeardown, this);
  }

  ~PacketSocket() override { CloseFd(); }

 private:
  static void OnEnvTeardown(void* data) { static_cast<PacketSocket*>(data)->CloseFd(); }

  void CloseFd() {
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
    napi_remove_env_cleanup_hook(env_, OnEnvTeardown, this);
  }

  // send(frame: Buffer): the frame goes out as is (the caller pads it).
  Napi::Value SendFrame(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env, "PacketSocket");
    if (info.Length() < 1 || !info[0].IsBuffer()) ThrowTypeError(env, "frame", "must be a Buffer");
    Napi::Buffer<uint8_t> frame = info[0].As<Napi::Buffer<uint8_t>>();
    if (frame.Length() < 14) {
      ThrowRangeError(env, "frame", "must hold at least an Ethernet header (14 bytes), got " +
                                        std::to_string(frame.Length()));
    }
    Failure failure;
    if (!packet::Send(fd_, ifindex_, frame.Data(), frame.Length(), &failure)) ThrowFailure(env, failure);
    return env.Undefined();
  }

  // readLink() -> { ifindex, name, mac }, read again now: the MAC (bond
  // failover, an operator's `ip link set address`) and the name may change
  // while the index stays.
  Napi::Value ReadLink(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowClosed(env, "PacketSocket");
    Link link;
    Failure failure;
    if (!packet::ResolveLink(fd_, "", ifindex_, &link, &failure)) ThrowFailure(env, failure);
    Napi::Object out = Napi::Object::New(env);
    SetLinkProperties(out, link);
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseFd();
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

  napi_env env_ = nullptr;
  int fd_ = -1;
  int ifindex_ = 0;
};

// new PacketCapture(link, netns, onFrames, addresses?): a non-blocking packet
// socket with the neighbour filter (or, given `addresses`, an array of 4- and
// 16-byte Buffers, the per-address filter of capture_filter.h when they fit
// in it; `addressFilter` says which), watched on this environment's loop.
// onFrames(error: Error | null, frames?: object[]) is called once per wake-up
// with every frame that was queued, each stamped with `at`, CLOCK_MONOTONIC ms
// read right after its recvfrom returned.
class PacketCapture : public Napi::ObjectWrap<PacketCapture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketCapture",
                       {InstanceMethod<&PacketCapture::Close>("close"),
                        InstanceAccessor<&PacketCapture::Closed>("closed")});
  }

  explicit PacketCapture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketCapture>(info) {
    Napi::Env env = info.Env();
    LinkArguments args = ReadLinkArguments(info);
    if (info.Length() < 3 || !info[2].IsFunction()) ThrowTypeError(env, "onFrames", "must be a function");
    std::vector<sock_filter> program;
    if (info.Length() > 3 && !info[3].IsUndefined()) program = AddressProgramArgument(info[3]);
    const bool address_filter = !program.empty();
    if (!address_filter) program = capture_filter::NeighbourProgram();
    callback_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "vip-announcer:PacketCapture");
    buffer_.resize(65536);
    Link link;
    const int fd = OpenBound(env, args, true, &link, program);
    try {
      SetLinkProperties(info.This().As<Napi::Object>(), link);
      info.This().As<Napi::Object>().Set("addressFilter", Napi::Boolean::New(env, address_filter));
    } catch (...) {
      close(fd);  // a throwing constructor gets no destructor call
      throw;
    }
    int uv_error = 0;  // from here on FdWatch owns the fd, also when it fails
    watch_ = FdWatch::Start(env, fd, [this](int status) { OnReadable(status); }, [this] { watch_ = nullptr; },
                            &uv_error);
    if (watch_ == nullptr) {
      throw SystemError(env, -uv_error, "uv_poll_start");
    }
    Ref();  // an open capture stays alive (and keeps calling back) until closed
  }

  ~PacketCapture() override {
    if (watch_ != nullptr) watch_->Close();
  }

 private:
  // Up to this many frames per wake-up, so a flood cannot starve the loop;
  // the poll is level-triggered and comes straight back for the rest.
  static constexpr int kMaxFramesPerWakeUp = 256;

  void OnReadable(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      Report(SystemError(env, -status, "uv_poll").Value(), env.Undefined());
      return;
    }
    Napi::Array frames = Napi::Array::New(env);
    uint32_t count = 0;
    int receive_error = 0;
    for (int i = 0; i < kMaxFramesPerWakeUp && watch_ != nullptr; ++i) {
      struct sockaddr_ll from;
      iovec io{buffer_.data(), buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr message{};
      message.msg_name = &from;
      message.msg_namelen = sizeof(from);
      message.msg_iov = &io;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
      ssize_t n = recvmsg(watch_->fd(), &message, MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) receive_error = errno;
        break;
      }
      const double at = packet::MonotonicMs();
      const size_t length = std::min(static_cast<size_t>(n), buffer_.size());
      Napi::Object frame = ParsedFrameToObject(env, frames::Parse(buffer_.data(), length), length);
      frame.Set("at", Napi::Number::New(env, at));
      double arrived_at = 0;
      if (packet::ArrivalMs(&message, at, &arrived_at)) frame.Set("arrivedAt", Napi::Number::New(env, arrived_at));
      frame.Set("outgoing", Napi::Boolean::New(env, from.sll_pkttype == PACKET_OUTGOING));
      frame.Set("raw", Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), length));
      frames.Set(count++, frame);
    }
    if (count > 0 && !Report(env.Null(), frames)) return;
    // ENETDOWN when the link goes down (the socket resumes once it is up again).
    if (receive_error != 0 && watch_ != nullptr) {
      Report(SystemError(env, receive_error, "recvfrom").Value(), env.Undefined());
    }
  }

  bool Report(napi_value error, napi_value frames) {
    return CallFromLoop(Env(), callback_, *context_, {error, frames});
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (EndWatch(watch_, callback_, *this)) {
      // Closed: nothing reads into it again (see NlSocket::Close).
      std::vector<uint8_t>().swap(buffer_);
    }
    return info.Env().Undefined();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), watch_ == nullptr); }

  FdWatch* watch_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::vector<uint8_t> buffer_;
};

}  // namespace

void InitPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
  exports.Set("PacketCapture", PacketCapture::Define(env));
}

}  // namespace vip
