// Monitor: rtnetlink notifications (links, addresses, optionally routes and
// rules) delivered to a JavaScript callback from the environment's own event
// loop.
//
// The socket is non-blocking and watched with a uv_poll_t from
// napi_get_uv_event_loop (never uv_default_loop: a Worker has its own loop).
// Each readable wake-up drains a bounded number of datagrams, decodes them and
// calls back once with the whole batch. When the kernel had to drop
// notifications (ENOBUFS) the batch carries an { type: 'overrun' } event at that
// point: the consumer's picture is stale and must be rebuilt with a dump.
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <napi.h>
#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "errors.h"
#include "netlink.h"
#include "netlink_js.h"
#include "nlsocket.h"

namespace vip {
namespace {

class Monitor;

constexpr size_t kReceiveBuffer = 64 * 1024;
// Bounded work per wake-up so a notification storm cannot starve the loop;
// libuv polls level-triggered and wakes us again for the rest.
constexpr int kDatagramsPerWake = 64;
constexpr int kDefaultSocketBuffer = 1 << 20;

// The libuv handle and the socket it watches. Heap-allocated and owned by
// libuv from uv_close until the close callback, because that callback may run
// after the JavaScript object (and its C++ wrapper) are gone.
struct PollState {
  uv_poll_t poll;
  NlSocket socket;
  Monitor* owner = nullptr;  // null once closing: no more callbacks into JavaScript
  bool closing = false;
  // Registered so that a Worker's teardown waits for uv_close to finish.
  napi_async_cleanup_hook_handle cleanup = nullptr;
};

void OnClosed(uv_handle_t* handle) {
  PollState* state = static_cast<PollState*>(handle->data);
  napi_async_cleanup_hook_handle cleanup = state->cleanup;
  delete state;  // closes the socket: the fd outlives the poll, as libuv requires
  if (cleanup != nullptr) napi_remove_async_cleanup_hook(cleanup);
}

void BeginClose(PollState* state) {
  if (state->closing) return;
  state->closing = true;
  state->owner = nullptr;
  uv_poll_stop(&state->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&state->poll), OnClosed);
}

void OnPoll(uv_poll_t* handle, int status, int events);
void OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg);

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

    auto state = std::make_unique<PollState>();
    NlError error;
    if (!state->socket.Open(netns, groups, &error, 0)) {
      const Capability cap = error.syscall == "setns" ? Capability::kSysAdmin : Capability::kNone;
      throw SystemError(env, error.err, error.syscall.c_str(), netns, cap);
    }
    const int fd = state->socket.fd();
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) throw SystemError(env, errno, "fcntl");
    // Forcing the size past rmem_max needs CAP_NET_ADMIN; without it the kernel
    // caps a plain SO_RCVBUF, which is still the best we can do.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &socket_buffer, sizeof(socket_buffer)) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer, sizeof(socket_buffer));
    }

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      throw Napi::Error::New(env, "no event loop for this environment");
    }
    int rc = uv_poll_init(loop, &state->poll, fd);
    if (rc != 0) throw SystemError(env, -rc, "uv_poll_init");
    // From here on the handle is known to libuv: release it only through uv_close.
    PollState* raw = state.release();
    raw->poll.data = raw;
    rc = uv_poll_start(&raw->poll, UV_READABLE, OnPoll);
    if (rc == 0) {
      napi_status status = napi_add_async_cleanup_hook(env, OnEnvTeardown, raw, &raw->cleanup);
      if (status != napi_ok) rc = UV_ENOMEM;
    }
    if (rc != 0) {
      BeginClose(raw);
      throw SystemError(env, -rc, "uv_poll_start");
    }
    raw->owner = this;
    state_ = raw;
    buffer_.resize(kReceiveBuffer);
    callback_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "vip-announcer:LinkMonitor", info.This().As<Napi::Object>());
    // An open monitor must not be collected while libuv may still call it.
    Ref();
  }

  ~Monitor() override {
    if (state_ != nullptr) BeginClose(Detach());
  }

  // Environment teardown: libuv must let go, but JavaScript is going away, so
  // touch nothing on its side.
  void ForgetState() { state_ = nullptr; }

  void OnReadable(int status);

 private:
  PollState* Detach() {
    PollState* state = state_;
    state_ = nullptr;
    return state;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) {
      BeginClose(Detach());
      callback_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value LoopRef(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&state_->poll));
    return info.This();
  }

  Napi::Value LoopUnref(const Napi::CallbackInfo& info) {
    if (state_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
    return info.This();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), state_ == nullptr); }

  PollState* state_ = nullptr;
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

  const int fd = state_->socket.fd();
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
      const int rc = uv_poll_start(&state_->poll, UV_READABLE, OnPoll);
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
  try {
    callback_.MakeCallback(Value(), {events}, *context_);
  } catch (const Napi::Error& error) {
    // A listener threw: report it the way Node reports an exception thrown from
    // any I/O callback ('uncaughtException', or the Worker's 'error').
    napi_fatal_exception(env, error.Value());
  }
}

void OnPoll(uv_poll_t* handle, int status, int events) {
  PollState* state = static_cast<PollState*>(handle->data);
  if (state->owner != nullptr) state->owner->OnReadable(status);
}

void OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg) {
  PollState* state = static_cast<PollState*>(arg);
  if (state->owner != nullptr) state->owner->ForgetState();
  // OnClosed removes the hook (handle == state->cleanup) once libuv is done;
  // if a close is already under way it will do so too.
  BeginClose(state);
}

}  // namespace

void InitMonitor(Napi::Env env, Napi::Object exports) { exports.Set("Monitor", Monitor::Define(env)); }

}  // namespace vip
