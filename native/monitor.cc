// Placeholder until this module lands.
#include <napi.h>
namespace vip {
void InitMonitor(Napi::Env env, Napi::Object exports) {}
}  // namespace vip
