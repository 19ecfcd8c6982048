// netif.cc: interface names and indexes, CPU count, and the BPF clock.
#include <bpf/libbpf.h>
#include <net/if.h>
#include <time.h>

#include <cerrno>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

// Absent interface: 0 (not an error). Names longer than IFNAMSIZ-1 cannot exist.
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "ifNameToIndex", "name");
  if (name.empty() || name.size() >= IF_NAMESIZE) return Napi::Number::New(env, 0);
  errno = 0;
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0 && errno != 0 && errno != ENODEV && errno != ENXIO) ThrowErrno(env, "if_nametoindex", errno);
  return Napi::Number::New(env, idx);
}

// Absent ifindex: null.
Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned idx = static_cast<unsigned>(ArgUint(info, 0, "ifIndexToName", "ifindex", 0, UINT32_MAX));
  if (idx == 0) return env.Null();
  char buf[IF_NAMESIZE];
  if (!if_indextoname(idx, buf)) {
    if (errno == ENXIO || errno == ENODEV) return env.Null();
    ThrowErrno(env, "if_indextoname", errno);
  }
  return Napi::String::New(env, buf);
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), PossibleCpus(info.Env(), "libbpf_num_possible_cpus"));
}

Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) ThrowErrno(info.Env(), "clock_gettime", errno);
  uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

}  // namespace

void InitNetif(Napi::Env env, Napi::Object exports) {
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex, "ifNameToIndex"));
  exports.Set("ifIndexToName", Napi::Function::New(env, IfIndexToName, "ifIndexToName"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus, "numPossibleCpus"));
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs, "monotonicNs"));
}

}  // namespace bvs
