// module.cc: registration of the bvs native addon (typed in src/datapath/addon.ts).
//
// The addon is thin on purpose: each function is one libbpf call or syscall with its
// arguments checked, and failures are thrown as errors carrying code/errno/op (errors.h).
// Policy (naming, retries, pin layout, refcounts) lives in TypeScript.
#include <napi.h>

#include "addon.h"

namespace {

// Not part of the typed surface: native state counts, so tests can check for leaks.
Napi::Value Internals(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("openRings", Napi::Number::New(info.Env(), bvs::OpenRings()));
  o.Set("liveRings", Napi::Number::New(info.Env(), bvs::LiveRingStates()));
  o.Set("packetSockets", Napi::Number::New(info.Env(), static_cast<double>(bvs::OpenPacketSockets())));
  o.Set("cachedMapFds", Napi::Number::New(info.Env(), static_cast<double>(bvs::CachedMapFds())));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bvs::InitObject(env, exports);
  bvs::InitMaps(env, exports);
  bvs::InitTcx(env, exports);
  bvs::InitRing(env, exports);
  bvs::InitPacket(env, exports);
  bvs::InitNetif(env, exports);
  bvs::InitProg(env, exports);
  exports.Set("_internals", Napi::Function::New(env, Internals, "_internals"));
  return exports;
}

}  // namespace

NODE_API_MODULE(bvs_addon, Init)
