// module.cc: registration of the bvs native addon (typed in src/datapath/addon.ts).
//
// The addon is thin on purpose: each function is one libbpf call or syscall with its
// arguments checked, and failures are thrown as errors carrying code/errno/op (errors.h).
// Policy (naming, retries, pin layout, refcounts) lives in TypeScript.
#include <napi.h>

#include "addon.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bvs::InitObject(env, exports);
  bvs::InitMaps(env, exports);
  bvs::InitTcx(env, exports);
  bvs::InitRing(env, exports);
  bvs::InitPacket(env, exports);
  bvs::InitNetif(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(bvs_addon, Init)
