// Placeholder until this module lands.
#include <napi.h>
namespace vip {
void InitFrames(Napi::Env env, Napi::Object exports) {}
}  // namespace vip
