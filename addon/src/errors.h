// errors.h: how the addon reports failures to JS.
//
// Every failing libbpf call or syscall throws a JS Error with
//   code:  errno name ('ENOENT'; 'LIBBPF_ERRNO__VERIFY' for libbpf's private codes),
//   errno: the positive errno number,
//   op:    the call that failed ('bpf_map_update_elem'),
//   message "op: strerror text" (plus detail lines, e.g. the libbpf log on a load failure).
// Bad arguments from JS throw TypeError/RangeError with code 'EINVAL', errno 22 and op set to
// the addon function's JS name. All throwers are [[noreturn]]: they throw a C++ Napi::Error,
// which node-addon-api (NAPI_CPP_EXCEPTIONS) turns into a JS exception at the call boundary.
#ifndef BVS_ADDON_ERRORS_H
#define BVS_ADDON_ERRORS_H

#include <napi.h>

#include <string>

namespace bvs {

// The symbolic name of an errno value ("ENOENT"), or "E<n>" when unknown.
std::string ErrnoName(int err);

// Build (without throwing) the Error described above. `err` may be negative (libbpf style).
Napi::Error MakeErrnoError(Napi::Env env, const char* op, int err, const std::string& detail = "");

[[noreturn]] void ThrowErrno(Napi::Env env, const char* op, int err, const std::string& detail = "");
[[noreturn]] void ThrowType(Napi::Env env, const char* op, const std::string& msg);
[[noreturn]] void ThrowRange(Napi::Env env, const char* op, const std::string& msg);

}  // namespace bvs

#endif
