// Module entry: each kernel interface registers its own exports. No state lives
// at namespace scope; per-environment data hangs off the exports/env so the
// addon is safe in worker_threads.
#include <napi.h>

namespace vip {
void InitNetlink(Napi::Env env, Napi::Object exports);   // netlink_binding.cc
void InitMonitor(Napi::Env env, Napi::Object exports);   // monitor.cc
void InitFrames(Napi::Env env, Napi::Object exports);    // frames_binding.cc (frames.cc is pure)
void InitPacket(Napi::Env env, Napi::Object exports);    // packet.cc
void InitFlock(Napi::Env env, Napi::Object exports);     // flock.cc
void InitLifeline(Napi::Env env, Napi::Object exports);  // lifeline.cc
}  // namespace vip

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  vip::InitNetlink(env, exports);
  vip::InitMonitor(env, exports);
  vip::InitFrames(env, exports);
  vip::InitPacket(env, exports);
  vip::InitFlock(env, exports);
  vip::InitLifeline(env, exports);
  return exports;
}

NODE_API_MODULE(vip_announcer, Init)
