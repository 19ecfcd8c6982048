// prog.cc: running a loaded program on a given frame (BPF_PROG_TEST_RUN), no device needed.
//
// For a SEC("tc") program the kernel builds an skb from `data` (at least an Ethernet header),
// runs the program `repeat` times and reports the last return value and the mean duration.
// Side effects are real: map updates and ring buffer records happen once per repetition, which
// makes this the way to feed exact frames to the datapath in tests and benchmarks, and the
// datapath's execute path (bvs_exec): a final redirect is not performed, but the copies
// bpf_clone_redirect makes are transmitted at once. `ifindex` (> 1) makes skb->dev that device.
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "args.h"
#include "errors.h"

namespace bvs {

namespace {

constexpr uint64_t kMaxRepeat = 100000000;

Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  const char* fn = "progTestRun";
  Napi::Env env = info.Env();
  int progFd = ArgFd(info, 0, fn, "progFd");
  uint32_t repeat = 1, ifindex = 0;
  Bytes out;
  // Options first: their getters run JS, which could detach `data`'s buffer if we held its
  // pointer already. No JS runs after the pointers are taken.
  if (!info[2].IsUndefined() && !info[2].IsNull()) {
    if (!info[2].IsObject()) ThrowType(env, fn, "argument 3 (opts) must be an object");
    Napi::Object o = info[2].As<Napi::Object>();
    Napi::Value v = o.Get("repeat");
    if (!v.IsUndefined()) repeat = static_cast<uint32_t>(ValueUint(env, v, fn, "opts.repeat", 1, kMaxRepeat));
    v = o.Get("ifindex");
    if (!v.IsUndefined()) ifindex = static_cast<uint32_t>(ValueUint(env, v, fn, "opts.ifindex", 0, INT32_MAX));
    v = o.Get("dataOut");
    if (!v.IsUndefined() && !v.IsNull()) {
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        ThrowType(env, fn, "opts.dataOut must be a Uint8Array or Buffer");
      }
      Napi::Uint8Array a = v.As<Napi::Uint8Array>();
      out.data = a.Data();
      out.len = a.ByteLength();
      out.present = true;
      if (out.len > UINT32_MAX) ThrowRange(env, fn, "opts.dataOut is too large");
    }
  }
  Bytes data = ArgBytes(info, 1, fn, "data");
  if (data.len == 0 || data.len > UINT32_MAX) ThrowRange(env, fn, "argument 2 (data) must not be empty");
  struct __sk_buff ctx;
  memset(&ctx, 0, sizeof(ctx));
  ctx.ifindex = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts,
              .data_in = data.data,
              .data_out = out.present ? out.data : nullptr,
              .data_size_in = static_cast<uint32_t>(data.len),
              .data_size_out = out.present ? static_cast<uint32_t>(out.len) : 0,
              .ctx_in = ifindex ? &ctx : nullptr,
              .ctx_size_in = ifindex ? static_cast<uint32_t>(sizeof(ctx)) : 0,
              .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(progFd, &opts) != 0) ThrowErrno(env, "bpf_prog_test_run_opts", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("retval", Napi::Number::New(env, static_cast<int32_t>(opts.retval)));
  r.Set("durationNs", Napi::Number::New(env, opts.duration));
  r.Set("dataOutLen", Napi::Number::New(env, out.present ? opts.data_size_out : 0));
  return r;
}

}  // namespace

void InitProg(Napi::Env env, Napi::Object exports) {
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun, "progTestRun"));
}

}  // namespace bvs
