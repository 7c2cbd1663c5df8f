#include "fd_watch.h"

#include <unistd.h>

namespace vip {

FdWatch* FdWatch::Start(napi_env env, int fd, std::function<void(int status)> on_readable,
                        std::function<void()> on_teardown, int* uv_error) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    close(fd);
    *uv_error = UV_EINVAL;
    return nullptr;
  }
  FdWatch* watch = new FdWatch(fd);
  int rc = uv_poll_init(loop, &watch->poll_, fd);
  if (rc != 0) {
    close(fd);
    delete watch;
    *uv_error = rc;
    return nullptr;
  }
  watch->poll_.data = watch;
  watch->on_readable_ = std::move(on_readable);
  watch->on_teardown_ = std::move(on_teardown);
  rc = uv_poll_start(&watch->poll_, UV_READABLE, OnPoll);
  if (rc == 0 && napi_add_async_cleanup_hook(env, OnEnvTeardown, watch, &watch->hook_) != napi_ok) rc = UV_ENOMEM;
  if (rc != 0) {
    *uv_error = rc;
    watch->on_teardown_ = nullptr;
    watch->Close();  // the handle is initialised: it must go through uv_close
    return nullptr;
  }
  return watch;
}

void FdWatch::Close() {
  if (closing_) return;
  closing_ = true;
  on_readable_ = nullptr;
  on_teardown_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnClosed);
}

int FdWatch::Restart() {
  if (closing_) return UV_EINVAL;
  return uv_poll_start(&poll_, UV_READABLE, OnPoll);
}

void FdWatch::SetLoopRef(bool ref) {
  if (closing_) return;
  if (ref) {
    uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  }
}

void FdWatch::OnPoll(uv_poll_t* handle, int status, int events) {
  FdWatch* watch = static_cast<FdWatch*>(handle->data);
  // Copy: the callback may Close() the watch, which clears on_readable_.
  std::function<void(int)> callback = watch->on_readable_;
  if (watch->closing_ || !callback) return;
  try {
    callback(status);
  } catch (const Napi::Error&) {
    // Building JavaScript values failed: in practice only when the
    // environment is shutting down (worker terminated, process exiting) and
    // JavaScript can no longer run. Nothing can be reported any more; stop
    // watching so that this does not repeat.
    watch->Detach();
  }
}

void FdWatch::Detach() {
  std::function<void()> teardown = std::move(on_teardown_);
  on_teardown_ = nullptr;
  if (teardown) teardown();
  Close();
}

void FdWatch::OnClosed(uv_handle_t* handle) {
  FdWatch* watch = static_cast<FdWatch*>(handle->data);
  // Only now: libuv has stopped polling the fd, so closing it cannot race a
  // reused descriptor number still registered with epoll.
  close(watch->fd_);
  if (watch->hook_ != nullptr) napi_remove_async_cleanup_hook(watch->hook_);
  delete watch;
}

void FdWatch::OnEnvTeardown(napi_async_cleanup_hook_handle hook, void* data) {
  // OnClosed removes the hook, which lets the environment finish.
  static_cast<FdWatch*>(data)->Detach();
}

bool CallFromLoop(Napi::Env env, const Napi::FunctionReference& callback, const Napi::AsyncContext& context,
                  const std::vector<napi_value>& args) {
  // The C API on purpose: node-addon-api would turn a failure into a C++
  // exception, and building that Napi::Error fails fatally while a worker is
  // being terminated (its "exception" is then not an object).
  napi_value global = nullptr;
  napi_value function = nullptr;
  napi_value result = nullptr;
  if (napi_get_global(env, &global) != napi_ok ||
      napi_get_reference_value(env, callback, &function) != napi_ok || function == nullptr) {
    return false;
  }
  if (napi_make_callback(env, context, global, function, args.size(), args.data(), &result) == napi_ok) return true;
  napi_value exception = nullptr;
  if (napi_get_and_clear_last_exception(env, &exception) != napi_ok || exception == nullptr) return false;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, exception, &type);
  if (type == napi_undefined) return false;  // termination: JavaScript cannot run any more
  napi_fatal_exception(env, exception);
  return true;
}

}  // namespace vip
