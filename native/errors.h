// Errors shaped like Node's SystemError: { code, errno, syscall, message }.
#pragma once
#include <napi.h>

#include <string>

namespace vip {

// Which capability an EPERM/EACCES most likely lacks, for the message.
enum class Capability { kNone, kNetAdmin, kNetRaw, kSysAdmin };

// Builds an Error whose `code` is the errno name ('EPERM'), `errno` the negated
// errno (as Node does), `syscall` the failing call, and whose message carries
// `detail` (for example the kernel's extended-ACK text) and, for EPERM/EACCES,
// the capability that is missing.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall,
                        const std::string& detail = "",
                        Capability cap = Capability::kNone);

// Throws a TypeError/RangeError naming the offending field, for inputs that the
// TypeScript layer should have rejected already (defence in depth).
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& field, const std::string& what);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& field, const std::string& what);

}  // namespace vip
