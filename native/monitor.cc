// Monitor: rtnetlink notifications (links, addresses, optionally routes,
// rules and neighbours) delivered to a JavaScript callback from the
// environment's own event loop.
//
// The socket is non-blocking and watched by an FdWatch (fd_watch.h: the
// environment's own loop, never uv_default_loop, and a lifecycle that survives
// a Worker's teardown). Each readable wake-up drains a bounded number of
// datagrams, decodes them and calls back once with the whole batch. When the
// kernel had to drop notifications (ENOBUFS) the batch carries an
// { type: 'overrun' } event at that point: the consumer's picture is stale and
// must be rebuilt with a dump.
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <napi.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "fd_watch.h"
#include "netlink.h"
#include "netlink_js.h"
#include "nlsocket.h"

namespace vip {
namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;
// Bounded work per wake-up so a notification storm cannot starve the loop;
// libuv polls level-triggered and wakes us again for the rest.
constexpr int kDatagramsPerWake = 64;
constexpr int kDefaultSocketBuffer = 1 << 20;

class Monitor : public Napi::ObjectWrap<Monitor> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Monitor",
                       {
                           InstanceMethod<&Monitor::Close>("close"),
                           InstanceMethod<&Monitor::LoopRef>("ref"),
                           InstanceMethod<&Monitor::LoopUnref>("unref"),
                           InstanceAccessor<&Monitor::Closed>("closed"),
                       });
  }

  // new Monitor(netns: string | undefined, options: { routes?, rules?, neighbours?, receiveBufferSize? }, callback)
  explicit Monitor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Monitor>(info) {
    Napi::Env env = info.Env();
    std::string netns;
    if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()) {
      if (!info[0].IsString()) ThrowTypeError(env, "netns", "must be a path string");
      netns = info[0].As<Napi::String>().Utf8Value();
    }
    Napi::Object options = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    if (info.Length() < 3 || !info[2].IsFunction()) ThrowTypeError(env, "callback", "must be a function");

    std::vector<uint32_t> groups = {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR};
    if (options.Get("routes").ToBoolean()) {
      groups.push_back(RTNLGRP_IPV4_ROUTE);
      groups.push_back(RTNLGRP_IPV6_ROUTE);
    }
    if (options.Get("neighbours").ToBoolean()) groups.push_back(RTNLGRP_NEIGH);
    if (options.Get("rules").ToBoolean()) {
      groups.push_back(RTNLGRP_IPV4_RULE);
      groups.push_back(RTNLGRP_IPV6_RULE);
    }
    int socket_buffer = kDefaultSocketBuffer;
    Napi::Value requested = options.Get("receiveBufferSize");
    if (requested.IsNumber()) {
      const double bytes = requested.As<Napi::Number>().DoubleValue();
      if (!(bytes >= 1 && bytes <= (1 << 30))) ThrowRangeError(env, "receiveBufferSize", "must be 1 to 2^30 bytes");
      socket_buffer = static_cast<int>(bytes);
    }

    NlSocket socket;
    NlError error;
    if (!socket.Open(netns, groups, &error, 0)) {
      const Capability cap = error.syscall == "setns" ? Capability::kSysAdmin : Capability::kNone;
      throw SystemError(env, error.err, error.syscall.c_str(), netns, cap);
    }
    const int fd = socket.fd();
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) throw SystemError(env, errno, "fcntl");
    // Forcing the size past rmem_max needs CAP_NET_ADMIN; without it the kernel
    // caps a plain SO_RCVBUF, which is still the best we can do.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &socket_buffer, sizeof(socket_buffer)) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer, sizeof(socket_buffer));
    }
    buffer_.resize(kReceiveBuffer);
    callback_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "vip-announcer:LinkMonitor", info.This().As<Napi::Object>());
    int uv_error = 0;  // from here on FdWatch owns the fd, also when it fails
    watch_ = FdWatch::Start(env, socket.Release(), [this](int status) { OnReadable(status); },
                            [this] { watch_ = nullptr; }, &uv_error);
    if (watch_ == nullptr) throw SystemError(env, -uv_error, "uv_poll_start");
    // An open monitor must not be collected while libuv may still call it.
    Ref();
  }

  ~Monitor() override {
    if (watch_ != nullptr) watch_->Close();
  }

 private:
  void OnReadable(int status);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (EndWatch(watch_, callback_, *this)) {
      // Closed: nothing reads into it again, and the wrapper may outlive this
      // call until a major GC (see NlSocket::Close).
      netlink::Bytes().swap(buffer_);
    }
    return info.Env().Undefined();
  }

  Napi::Value LoopRef(const Napi::CallbackInfo& info) {
    if (watch_ != nullptr) watch_->SetLoopRef(true);
    return info.This();
  }

  Napi::Value LoopUnref(const Napi::CallbackInfo& info) {
    if (watch_ != nullptr) watch_->SetLoopRef(false);
    return info.This();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), watch_ == nullptr); }

  // Cleared by Close() and by the watch itself when the environment goes away.
  FdWatch* watch_ = nullptr;
  netlink::Bytes buffer_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Object OverrunEvent(Napi::Env env) {
  Napi::Object event = Napi::Object::New(env);
  event.Set("type", "overrun");
  return event;
}

Napi::Object ErrorEvent(Napi::Env env, const Napi::Error& error) {
  Napi::Object event = Napi::Object::New(env);
  event.Set("type", "failure");
  event.Set("error", error.Value());
  return event;
}

void Monitor::OnReadable(int status) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Array events = Napi::Array::New(env);
  auto push = [&](Napi::Value event) { events.Set(events.Length(), event); };

  const int fd = watch_->fd();
  bool drain = true;
  if (status < 0) {
    // libuv turns POLLERR into UV_EBADF and stops the handle. On a netlink
    // socket POLLERR usually means a pending socket error, above all ENOBUFS
    // (notifications dropped): take it, report it, and keep watching.
    int pending = 0;
    socklen_t length = sizeof(pending);
    const bool descriptor_ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0;
    if (!descriptor_ok) {
      // The descriptor itself is unusable: report once and stop (close() still cleans up).
      push(ErrorEvent(env, SystemError(env, -status, "uv_poll")));
      drain = false;
    } else if (pending == ENOBUFS) {
      push(OverrunEvent(env));
    } else if (pending != 0) {
      push(ErrorEvent(env, SystemError(env, pending, "recvmsg")));
    }
    if (descriptor_ok) {
      const int rc = watch_->Restart();
      if (rc != 0) {
        push(ErrorEvent(env, SystemError(env, -rc, "uv_poll_start")));
        drain = false;
      }
    }
  }
  if (drain) {
    for (int datagram = 0; datagram < kDatagramsPerWake; ++datagram) {
      sockaddr_nl from{};
      iovec io{buffer_.data(), buffer_.size()};
      msghdr header{};
      header.msg_name = &from;
      header.msg_namelen = sizeof(from);
      header.msg_iov = &io;
      header.msg_iovlen = 1;
      const ssize_t got = recvmsg(fd, &header, MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {  // the kernel dropped notifications for us
          push(OverrunEvent(env));
          continue;
        }
        push(ErrorEvent(env, SystemError(env, errno, "recvmsg")));
        break;
      }
      if (header.msg_flags & MSG_TRUNC) {  // a notification did not fit: as good as lost
        push(OverrunEvent(env));
        continue;
      }
      if (from.nl_pid != 0) continue;  // only the kernel speaks for these groups
      std::vector<netlink::Message> messages;
      std::string why;
      if (!netlink::DecodeMessages(buffer_.data(), static_cast<size_t>(got), &messages, &why)) {
        Napi::Error error = Napi::Error::New(env, "malformed notification: " + why);
        error.Set("code", Napi::String::New(env, "ERR_NETLINK_MALFORMED"));
        push(ErrorEvent(env, error));
        continue;
      }
      for (const netlink::Message& message : messages) {
        switch (message.kind) {
          case netlink::Message::Kind::kLink:
            // Bridges also describe their ports as AF_BRIDGE links: the link
            // itself is the AF_UNSPEC message.
            if (message.link.family != AF_UNSPEC) break;
            push(MessageToJs(env, message));
            break;
          case netlink::Message::Kind::kAddress:
          case netlink::Message::Kind::kRoute:
          case netlink::Message::Kind::kRule:
          case netlink::Message::Kind::kNeighbour:
            push(MessageToJs(env, message));
            break;
          default:
            break;
        }
      }
    }
  }
  if (events.Length() == 0) return;
  // A listener that throws is reported the way Node reports an exception
  // thrown from any I/O callback ('uncaughtException', or the Worker's 'error').
  CallFromLoop(env, callback_, *context_, {events});
}

}  // namespace

void InitMonitor(Napi::Env env, Napi::Object exports) { exports.Set("Monitor", Monitor::Define(env)); }

}  // namespace vip
