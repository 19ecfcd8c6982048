// object.cc: BPF object lifecycle: load (open + pin reuse + load), objGet/objPin, close, mapInfo.
//
// load() contract: it returns dup'ed fds (the chosen program, every program by name, and every
// map) and closes the bpf_object before returning, so the caller owns exactly the fds it is
// given and nothing else of the object stays in this process. Maps declared with
// LIBBPF_PIN_BY_NAME are reused from opts.pinRoot when pinned there, else created and pinned
// there by libbpf.
//
// max_entries: a reused pin keeps its own capacity. Before load, each pinned map's
// max_entries is copied from the existing pin (so libbpf's reuse-compatibility check compares
// only what is a layout: type, key/value size, flags); opts.maxEntries applies to maps being
// created. A pin whose layout differs makes bpf_object__load fail ("parameter mismatch" in
// the attached libbpf log); deciding what to do about it (delete the pin, refuse) is policy.
//
// The libbpf log (warnings and info, never debug) is captured instead of printed, and the tail
// is attached to a load failure (message and `.log`), so a verifier rejection is diagnosable.
// Set BVS_LIBBPF_DEBUG=1 to also copy everything, debug included, to stderr.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "mapcache.h"

namespace bvs {

namespace {

constexpr size_t kLogCap = 64 * 1024;     // bytes of libbpf log kept (the tail)
constexpr size_t kMessageTail = 3 * 1024;  // bytes of it put into an error message

std::mutex logMu;
std::string logBuf;
bool logToStderr = false;

int PrintCb(enum libbpf_print_level level, const char* fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  if (logToStderr) {
    va_list ap3;
    va_copy(ap3, ap);
    vfprintf(stderr, fmt, ap3);
    va_end(ap3);
  }
  if (level == LIBBPF_DEBUG) {
    va_end(ap2);
    return 0;
  }
  char small[512];
  int n = vsnprintf(small, sizeof(small), fmt, ap2);
  va_end(ap2);
  if (n < 0) return 0;
  std::string line;
  if (static_cast<size_t>(n) < sizeof(small)) {
    line.assign(small, n);
  } else {
    // The verifier log arrives as one huge %s; format it in full, keep the tail.
    line.resize(static_cast<size_t>(n) + 1);
    va_copy(ap2, ap);
    vsnprintf(&line[0], line.size(), fmt, ap2);
    va_end(ap2);
    line.resize(n);
  }
  std::lock_guard<std::mutex> g(logMu);
  logBuf += line;
  if (logBuf.size() > kLogCap) logBuf.erase(0, logBuf.size() - kLogCap);
  return 0;
}

void ClearLog() {
  std::lock_guard<std::mutex> g(logMu);
  logBuf.clear();
}

std::string TakeLog() {
  std::lock_guard<std::mutex> g(logMu);
  std::string s;
  s.swap(logBuf);
  return s;
}

// Throw a load-phase failure with the captured libbpf log attached.
[[noreturn]] void ThrowWithLog(Napi::Env env, const char* op, int err) {
  std::string log = TakeLog();
  std::string detail;
  if (!log.empty()) {
    detail = "libbpf log (tail):\n" +
             (log.size() > kMessageTail ? "..." + log.substr(log.size() - kMessageTail) : log);
  }
  Napi::Error e = MakeErrnoError(env, op, err, detail);
  e.Value().Set("log", Napi::String::New(env, log));
  throw e;
}

struct ObjectGuard {
  struct bpf_object* obj;
  ~ObjectGuard() { bpf_object__close(obj); }
};

// Owns fds until released; closes them all on an error path.
struct FdList {
  std::vector<int> fds;
  bool released = false;
  ~FdList() {
    if (released) return;
    for (int fd : fds) close(fd);
  }
};

int DupFd(Napi::Env env, FdList& list, int fd, const char* what) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) ThrowErrno(env, "fcntl", errno, std::string("dup of ") + what);
  list.fds.push_back(d);
  return d;
}

// Copy max_entries of an existing pin into the object's map (see the file comment).
void AdoptPinnedCapacity(struct bpf_object* obj) {
  struct bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    const char* pin = bpf_map__pin_path(map);
    if (!pin) continue;
    int fd = bpf_obj_get(pin);
    if (fd < 0) continue;  // not pinned yet (or unreadable: load reports it)
    struct bpf_map_info mi;
    memset(&mi, 0, sizeof(mi));
    uint32_t len = sizeof(mi);
    char link[64], target[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    bool isMap = n > 0 && (target[n] = '\0', strcmp(target, "anon_inode:bpf-map") == 0);
    if (isMap && bpf_obj_get_info_by_fd(fd, &mi, &len) == 0 && mi.max_entries > 0) {
      bpf_map__set_max_entries(map, mi.max_entries);
    }
    close(fd);
  }
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  const char* op = "load";
  Napi::Env env = info.Env();
  std::string objPath = ArgString(info, 0, op, "objPath");
  if (!info[1].IsObject()) ThrowType(env, op, "argument 2 (opts) must be an object");
  Napi::Object opts = info[1].As<Napi::Object>();
  std::string pinRoot = ValueString(env, opts.Get("pinRoot"), op, "opts.pinRoot");
  if (pinRoot.empty()) ThrowRange(env, op, "opts.pinRoot must not be empty");

  std::vector<std::pair<std::string, uint32_t>> overrides;
  Napi::Value me = opts.Get("maxEntries");
  if (!me.IsUndefined() && !me.IsNull()) {
    if (!me.IsObject()) ThrowType(env, op, "opts.maxEntries must be an object");
    Napi::Object o = me.As<Napi::Object>();
    Napi::Array names = o.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = ValueString(env, names.Get(i), op, "opts.maxEntries key");
      uint32_t v = static_cast<uint32_t>(
          ValueUint(env, o.Get(name), op, "opts.maxEntries." + name, 1, UINT32_MAX));
      overrides.emplace_back(name, v);
    }
  }
  std::string progName;
  Napi::Value pv = opts.Get("program");
  if (!pv.IsUndefined() && !pv.IsNull()) progName = ValueString(env, pv, op, "opts.program");

  ClearLog();
  LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pinRoot.c_str());
  struct bpf_object* obj = bpf_object__open_file(objPath.c_str(), &oo);
  if (!obj) ThrowWithLog(env, "bpf_object__open_file", errno);
  ObjectGuard guard{obj};

  for (const auto& [name, value] : overrides) {
    struct bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    if (!map) ThrowRange(env, op, "opts.maxEntries: no map named '" + name + "' in " + objPath);
    int err = bpf_map__set_max_entries(map, value);
    if (err) ThrowErrno(env, "bpf_map__set_max_entries", err, "map '" + name + "'");
  }
  AdoptPinnedCapacity(obj);

  int err = bpf_object__load(obj);
  if (err) ThrowWithLog(env, "bpf_object__load", err);
  ClearLog();

  struct bpf_program* prog = progName.empty()
                                 ? bpf_object__next_program(obj, nullptr)
                                 : bpf_object__find_program_by_name(obj, progName.c_str());
  if (!prog) {
    ThrowErrno(env, "bpf_object__find_program_by_name", ENOENT,
               progName.empty() ? "the object has no program" : "no program named '" + progName + "'");
  }

  FdList fds;
  Napi::Object result = Napi::Object::New(env);
  result.Set("progFd", Napi::Number::New(env, DupFd(env, fds, bpf_program__fd(prog), "program")));
  Napi::Object maps = Napi::Object::New(env);
  struct bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    maps.Set(bpf_map__name(map), Napi::Number::New(env, DupFd(env, fds, fd, bpf_map__name(map))));
  }
  result.Set("maps", maps);
  Napi::Object progs = Napi::Object::New(env);
  struct bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    progs.Set(bpf_program__name(p), Napi::Number::New(env, DupFd(env, fds, bpf_program__fd(p), bpf_program__name(p))));
  }
  result.Set("progs", progs);
  for (int fd : fds.fds) ForgetFd(fd);
  fds.released = true;
  return result;
}

Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "objGet", "pinPath");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(info.Env(), "bpf_obj_get", errno, path);
  ForgetFd(fd);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "objPin", "fd");
  std::string path = ArgString(info, 1, "objPin", "pinPath");
  if (bpf_obj_pin(fd, path.c_str()) != 0) ThrowErrno(info.Env(), "bpf_obj_pin", errno, path);
  return info.Env().Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "close", "fd");
  ForgetFd(fd);
  if (close(fd) != 0) ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "mapInfo", "fd");
  ForgetFd(fd);
  GetMapSizes(env, fd, "bpf_obj_get_info_by_fd");  // refreshes the cache; throws if not a map
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) != 0) ThrowErrno(env, "bpf_obj_get_info_by_fd", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, mi.id));
  o.Set("name", Napi::String::New(env, std::string(mi.name, strnlen(mi.name, sizeof(mi.name)))));
  o.Set("type", Napi::Number::New(env, mi.type));
  o.Set("keySize", Napi::Number::New(env, mi.key_size));
  o.Set("valueSize", Napi::Number::New(env, mi.value_size));
  o.Set("maxEntries", Napi::Number::New(env, mi.max_entries));
  o.Set("flags", Napi::Number::New(env, static_cast<double>(mi.map_flags)));
  return o;
}

}  // namespace

void InitObject(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* dbg = getenv("BVS_LIBBPF_DEBUG");
    logToStderr = dbg && *dbg && strcmp(dbg, "0") != 0;
    libbpf_set_print(PrintCb);
  });
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("objGet", Napi::Function::New(env, ObjGet, "objGet"));
  exports.Set("objPin", Napi::Function::New(env, ObjPin, "objPin"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo, "mapInfo"));
}

}  // namespace bvs
