// A readable-fd watch on the environment's own libuv loop, shared by the
// capture socket (packet.cc), the lock-file watch (flock.cc) and the netlink
// monitor (monitor.cc): the one home of the handle's lifecycle.
//
// It owns the fd and closes it together with the poll handle, from JavaScript
// (Close) or when the environment goes away (a worker thread exits with the
// watch still open): an async cleanup hook keeps the environment alive until
// libuv has finished closing the handle, so a worker's loop never closes with
// the handle still registered.
#pragma once
#include <napi.h>
#include <uv.h>

#include <functional>
#include <vector>

namespace vip {

class FdWatch {
 public:
  // Starts watching `fd` (taking ownership: it is closed on failure too).
  // `on_readable` runs on the loop thread with a pending-error flag
  // (status < 0: a libuv error); a Napi::Error escaping it means JavaScript
  // can no longer run, and detaches the watch. `on_teardown` runs once when the
  // watch detaches itself (the environment is torn down first, or that
  // error); after it, the watch is gone and must not be used. Returns nullptr
  // with *uv_error set on failure.
  static FdWatch* Start(napi_env env, int fd, std::function<void(int status)> on_readable,
                        std::function<void()> on_teardown, int* uv_error);

  // Stops calling back, then closes the handle and the fd; the object deletes
  // itself once libuv is done. Do not use the pointer afterwards.
  void Close();

  int fd() const { return fd_; }

  // libuv stops the poll after reporting an error (status < 0 in
  // `on_readable`); an owner whose fd is still usable starts it again here.
  // Returns 0 or a libuv error.
  int Restart();

  // Whether the watch keeps the event loop alive (uv_ref / uv_unref).
  void SetLoopRef(bool ref);

 private:
  FdWatch(int fd) : fd_(fd) {}
  ~FdWatch() = default;
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle hook, void* data);
  void Detach();

  uv_poll_t poll_{};
  int fd_;
  bool closing_ = false;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  std::function<void(int)> on_readable_;
  std::function<void()> on_teardown_;
};

// Calls `callback` from a libuv callback rather than from JavaScript: through
// the async context (so async_hooks and the microtask queue behave as after any
// I/O callback), and an exception it throws becomes an uncaught exception
// instead of vanishing in C++. The caller holds a HandleScope. Returns false
// when JavaScript cannot run any more (the environment is shutting down).
bool CallFromLoop(Napi::Env env, const Napi::FunctionReference& callback, const Napi::AsyncContext& context,
                  const std::vector<napi_value>& args);

// Ends the watch of a JavaScript-facing wrapper (from its close()): closes the
// watch, drops the callback and the wrapper's own strong reference. The
// callback closes over the JavaScript object that owns the wrapper, so keeping
// it past close() would keep the pair, and everything its listeners reach,
// alive for good (docs/reliability.md, "Soak"). False if it was not watching.
template <typename Wrapper>
bool EndWatch(FdWatch*& watch, Napi::FunctionReference& callback, Wrapper& wrapper) {
  if (watch == nullptr) return false;
  watch->Close();
  watch = nullptr;
  callback.Reset();
  wrapper.Unref();
  return true;
}

}  // namespace vip
