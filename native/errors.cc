#include "errors.h"

#include <string.h>
#include <uv.h>

namespace vip {

static const char* CapabilityName(Capability cap) {
  switch (cap) {
    case Capability::kNetAdmin: return "CAP_NET_ADMIN";
    case Capability::kNetRaw: return "CAP_NET_RAW";
    case Capability::kSysAdmin: return "CAP_SYS_ADMIN";
    default: return nullptr;
  }
}

Napi::Error SystemError(Napi::Env env, int err, const char* syscall,
                        const std::string& detail, Capability cap) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(syscall) + " " + code + " (" + strerror(err) + ")";
  if (!detail.empty()) message += ": " + detail;
  if ((err == EPERM || err == EACCES) && CapabilityName(cap) != nullptr) {
    message += std::string(" - requires ") + CapabilityName(cap);
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!detail.empty()) error.Set("reason", Napi::String::New(env, detail));
  if ((err == EPERM || err == EACCES) && CapabilityName(cap) != nullptr) {
    error.Set("capability", Napi::String::New(env, CapabilityName(cap)));
  }
  return error;
}

void ThrowTypeError(Napi::Env env, const std::string& field, const std::string& what) {
  throw Napi::TypeError::New(env, field + ": " + what);
}

void ThrowRangeError(Napi::Env env, const std::string& field, const std::string& what) {
  throw Napi::RangeError::New(env, field + ": " + what);
}

}  // namespace vip
