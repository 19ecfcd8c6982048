// ring.cc: consuming a BPF ring buffer on the libuv loop, without a thread.
//
// How it works: ring_buffer__new() sets up an epoll fd that becomes readable when the ring has
// data; a uv_poll_t watches that fd on this environment's loop. On readiness we call
// ring_buffer__consume(), whose sample callback copies each record into a JS Buffer, and then
// call the JS callback with arrays of at most maxBatch Buffers, through napi_make_callback (so
// promise jobs and nextTicks queued by the callback run right after it, as for any I/O event).
//
// Invariants and lifetime:
//  - Everything happens on the loop thread: the sample callback runs inside consume(), which
//    runs inside the poll callback. No JS runs while libbpf is inside consume(): records are
//    collected first and delivered after, so a close() from the JS callback never frees the
//    ring under libbpf's feet.
//  - One wakeup consumes at most kWakeupBudget records (or maxBatch if larger), then yields to
//    the loop; the poll is level-triggered, so the rest comes on the next loop iteration.
//  - An open ring keeps the loop alive (a daemon wants that) and keeps itself and its
//    callbacks alive even when JS drops the handle. close() stops the poll, drops the
//    callbacks, and frees the ring buffer when libuv has closed the handle. Records consumed
//    but not yet delivered when close() is called from a callback are dropped.
//  - RingState is freed when both the uv handle is closed and the JS close function has been
//    finalized (refs counts the two), so a late close() call never touches freed memory.
//  - An exception thrown by the JS callback is reported like one from any event callback
//    (napi_fatal_exception: 'uncaughtException'). A consume or poll failure goes to onError
//    when given, else is reported the same way; a poll failure also stops the ring.
#include <bpf/libbpf.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

constexpr size_t kWakeupBudget = 4096;
constexpr uint64_t kMaxBatchLimit = 1 << 20;
constexpr int kBudgetStop = -ECANCELED;

int liveStates = 0;  // RingStates not yet freed (for leak checks, see _internals)
int openRings = 0;   // rings not yet closed

struct RingState {
  RingState() { liveStates++; }
  ~RingState() { liveStates--; }
  uv_poll_t poll;
  struct ring_buffer* rb = nullptr;
  napi_env env = nullptr;
  napi_ref onRecords = nullptr;
  napi_ref onError = nullptr;
  napi_ref closeFn = nullptr;  // strong while open: the handle stays valid when JS drops it
  napi_async_context actx = nullptr;
  size_t maxBatch = 1;
  bool closed = false;
  bool inTeardown = false;
  int refs = 0;
  // Set only during consume().
  std::vector<napi_value>* sink = nullptr;
  size_t budget = 0;
  bool budgetHit = false;
  int sampleErr = 0;
};

void Unref(RingState* st) {
  if (--st->refs == 0) delete st;
}

void OnClosed(uv_handle_t* h) {
  RingState* st = static_cast<RingState*>(h->data);
  ring_buffer__free(st->rb);
  st->rb = nullptr;
  Unref(st);
}

void TeardownHook(void* arg);

// Idempotent. Callable from JS (close), a finalizer, or the env teardown hook.
void CloseState(RingState* st) {
  if (st->closed) return;
  st->closed = true;
  openRings--;
  uv_poll_stop(&st->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&st->poll), OnClosed);
  napi_env env = st->env;
  if (st->onRecords) napi_delete_reference(env, st->onRecords);
  if (st->onError) napi_delete_reference(env, st->onError);
  if (st->closeFn) napi_delete_reference(env, st->closeFn);
  st->onRecords = st->onError = st->closeFn = nullptr;
  if (st->actx) napi_async_destroy(env, st->actx);
  st->actx = nullptr;
  if (!st->inTeardown) napi_remove_env_cleanup_hook(env, TeardownHook, st);
}

void TeardownHook(void* arg) {
  RingState* st = static_cast<RingState*>(arg);
  st->inTeardown = true;
  CloseState(st);
}

void FinalizeCloseFn(napi_env env, void* data, void* hint) {
  RingState* st = static_cast<RingState*>(data);
  CloseState(st);
  Unref(st);
}

// libbpf sample callback: must not throw (it is called through C).
int OnSample(void* ctx, void* data, size_t len) {
  RingState* st = static_cast<RingState*>(ctx);
  if (!st->sink) return 0;
  napi_value buf;
  if (napi_create_buffer_copy(st->env, len, data, nullptr, &buf) != napi_ok) {
    st->sampleErr = ENOMEM;
    return -ENOMEM;
  }
  st->sink->push_back(buf);
  if (st->sink->size() >= st->budget) {
    st->budgetHit = true;
    return kBudgetStop;  // this record is consumed; stop here and yield to the loop
  }
  return 0;
}

void CallJs(RingState* st, napi_ref ref, napi_value arg) {
  napi_env env = st->env;
  napi_value fn, global, result;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == nullptr) return;
  napi_get_global(env, &global);
  napi_status s = napi_make_callback(env, st->actx, global, fn, 1, &arg, &result);
  if (s == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
    // A callback that threw leaves its scope without running nextTicks and promise jobs
    // (Node's rule for a failed callback). Once 'uncaughtException' has handled the error, run
    // them now through an empty scope, so they never wait for the next batch.
    napi_value resource;
    napi_callback_scope scope;
    if (napi_create_object(env, &resource) == napi_ok &&
        napi_open_callback_scope(env, resource, st->actx, &scope) == napi_ok) {
      napi_close_callback_scope(env, scope);
    }
  }
}

void ReportError(RingState* st, const char* op, int err) {
  Napi::Error e = MakeErrnoError(st->env, op, err);
  if (st->onError) {
    CallJs(st, st->onError, e.Value());
  } else {
    napi_fatal_exception(st->env, e.Value());
  }
}

void Consume(RingState* st, int status) {
  Napi::Env env(st->env);
  if (status < 0) {
    // The fd went bad (closed behind our back?): stop, or libuv would report it forever.
    uv_poll_stop(&st->poll);
    ReportError(st, "uv_poll", -status);
    return;
  }
  std::vector<napi_value> recs;
  st->sink = &recs;
  st->budget = std::max(kWakeupBudget, st->maxBatch);
  st->budgetHit = false;
  st->sampleErr = 0;
  int n = ring_buffer__consume(st->rb);
  st->sink = nullptr;
  int err = 0;
  if (n < 0 && !st->budgetHit) err = st->sampleErr ? st->sampleErr : -n;

  for (size_t i = 0; i < recs.size(); i += st->maxBatch) {
    if (st->closed) return;  // close() from a callback: drop the rest
    size_t m = std::min(st->maxBatch, recs.size() - i);
    Napi::Array arr = Napi::Array::New(env, m);
    for (size_t j = 0; j < m; j++) arr.Set(static_cast<uint32_t>(j), Napi::Value(env, recs[i + j]));
    CallJs(st, st->onRecords, arr);
  }
  if (err && !st->closed) ReportError(st, "ring_buffer__consume", err);
}

void OnPoll(uv_poll_t* h, int status, int events) {
  RingState* st = static_cast<RingState*>(h->data);
  if (st->closed) return;
  napi_env env = st->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  try {
    Consume(st, status);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  } catch (...) {
  }
  napi_close_handle_scope(env, scope);
}

Napi::Value RingOpen(const Napi::CallbackInfo& info) {
  const char* fn = "ringOpen";
  Napi::Env env = info.Env();
  int mapFd = ArgFd(info, 0, fn, "mapFd");
  size_t maxBatch = ArgUint(info, 1, fn, "maxBatch", 1, kMaxBatchLimit);
  Napi::Function onRecords = ArgFunction(info, 2, fn, "onRecords");
  Napi::Function onError;
  if (!info[3].IsUndefined() && !info[3].IsNull()) onError = ArgFunction(info, 3, fn, "onError");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) ThrowErrno(env, "napi_get_uv_event_loop", EINVAL);

  std::unique_ptr<RingState> owned(new RingState());
  RingState* st = owned.get();
  st->env = env;
  st->maxBatch = maxBatch;
  st->rb = ring_buffer__new(mapFd, OnSample, st, nullptr);
  if (!st->rb) ThrowErrno(env, "ring_buffer__new", errno);
  int epfd = ring_buffer__epoll_fd(st->rb);
  ForgetFd(epfd);
  int r = uv_poll_init(loop, &st->poll, epfd);
  if (r != 0) {
    ring_buffer__free(st->rb);
    ThrowErrno(env, "uv_poll_init", -r);
  }
  // From here the uv handle exists: it owns one ref, and failures must uv_close it.
  st->poll.data = st;
  st->refs = 1;
  openRings++;
  owned.release();
  try {
    Napi::Function closeFn = Napi::Function::New(env, [](const Napi::CallbackInfo& ci) -> Napi::Value {
      CloseState(static_cast<RingState*>(ci.Data()));
      return ci.Env().Undefined();
    }, "close", st);
    NAPI_THROW_IF_FAILED(env, napi_add_finalizer(env, closeFn, st, FinalizeCloseFn, nullptr, nullptr),
                         Napi::Value());
    st->refs++;  // the close function's finalizer now owns one too
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, closeFn, 1, &st->closeFn), Napi::Value());
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, onRecords, 1, &st->onRecords), Napi::Value());
    if (!onError.IsEmpty()) {
      NAPI_THROW_IF_FAILED(env, napi_create_reference(env, onError, 1, &st->onError), Napi::Value());
    }
    Napi::Object resource = Napi::Object::New(env);
    NAPI_THROW_IF_FAILED(env, napi_async_init(env, resource, Napi::String::New(env, "bvs:ring"), &st->actx),
                         Napi::Value());
    NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, TeardownHook, st), Napi::Value());
    r = uv_poll_start(&st->poll, UV_READABLE, OnPoll);
    if (r != 0) ThrowErrno(env, "uv_poll_start", -r);
    Napi::Object ring = Napi::Object::New(env);
    ring.Set("close", closeFn);
    return ring;
  } catch (...) {
    CloseState(st);  // also removes the cleanup hook (harmless when it was never added)
    throw;
  }
}

}  // namespace

int LiveRingStates() { return liveStates; }
int OpenRings() { return openRings; }

void InitRing(Napi::Env env, Napi::Object exports) {
  exports.Set("ringOpen", Napi::Function::New(env, RingOpen, "ringOpen"));
}

}  // namespace bvs
