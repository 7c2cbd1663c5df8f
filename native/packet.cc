// Placeholder until this module lands.
#include <napi.h>
namespace vip {
void InitPacket(Napi::Env env, Napi::Object exports) {}
}  // namespace vip
