// errors.cc: see errors.h.
#include "errors.h"

#include <bpf/libbpf.h>
#include <string.h>

#include <cerrno>
#include <cstdlib>

namespace bvs {

namespace {

// libbpf's private error codes (libbpf.h, enum libbpf_errno), which strerrorname_np() cannot name.
const char* LibbpfErrnoName(int err) {
  switch (err) {
    case LIBBPF_ERRNO__LIBELF: return "LIBBPF_ERRNO__LIBELF";
    case LIBBPF_ERRNO__FORMAT: return "LIBBPF_ERRNO__FORMAT";
    case LIBBPF_ERRNO__KVERSION: return "LIBBPF_ERRNO__KVERSION";
    case LIBBPF_ERRNO__ENDIAN: return "LIBBPF_ERRNO__ENDIAN";
    case LIBBPF_ERRNO__INTERNAL: return "LIBBPF_ERRNO__INTERNAL";
    case LIBBPF_ERRNO__RELOC: return "LIBBPF_ERRNO__RELOC";
    case LIBBPF_ERRNO__LOAD: return "LIBBPF_ERRNO__LOAD";
    case LIBBPF_ERRNO__VERIFY: return "LIBBPF_ERRNO__VERIFY";
    case LIBBPF_ERRNO__PROG2BIG: return "LIBBPF_ERRNO__PROG2BIG";
    case LIBBPF_ERRNO__KVER: return "LIBBPF_ERRNO__KVER";
    case LIBBPF_ERRNO__PROGTYPE: return "LIBBPF_ERRNO__PROGTYPE";
    case LIBBPF_ERRNO__WRNGPID: return "LIBBPF_ERRNO__WRNGPID";
    case LIBBPF_ERRNO__INVSEQ: return "LIBBPF_ERRNO__INVSEQ";
    case LIBBPF_ERRNO__NLPARSE: return "LIBBPF_ERRNO__NLPARSE";
    default: return nullptr;
  }
}

// Kernel-internal codes that leak to userspace through bpf(2) (include/linux/errno.h); glibc
// has no names for them. ENOTSUPP (524) is the common one (e.g. an unsupported map operation).
const char* KernelErrnoName(int err) {
  switch (err) {
    case 512: return "ERESTARTSYS";
    case 515: return "ENOIOCTLCMD";
    case 524: return "ENOTSUPP";
    case 526: return "EBADTYPE";
    default: return nullptr;
  }
}

std::string ErrnoText(int err) {
  if (err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END) {
    char buf[128];
    libbpf_strerror(err, buf, sizeof(buf));
    return buf;
  }
  if (err == 524) return "Operation not supported";
  char buf[128];
  // GNU strerror_r returns a pointer that may or may not be buf.
  return strerror_r(err, buf, sizeof(buf));
}

Napi::Error Decorate(Napi::Error e, const char* op, int err, const std::string& code) {
  Napi::Object o = e.Value();
  o.Set("code", Napi::String::New(e.Env(), code));
  o.Set("errno", Napi::Number::New(e.Env(), err));
  o.Set("op", Napi::String::New(e.Env(), op));
  return e;
}

}  // namespace

std::string ErrnoName(int err) {
  if (err < 0) err = -err;
  if (const char* n = LibbpfErrnoName(err)) return n;
  if (const char* n = KernelErrnoName(err)) return n;
  if (const char* n = strerrorname_np(err)) return n;
  return "E" + std::to_string(err);
}

Napi::Error MakeErrnoError(Napi::Env env, const char* op, int err, const std::string& detail) {
  if (err < 0) err = -err;
  if (err == 0) err = EIO;  // a failure with errno unset: never report "Success"
  std::string msg = std::string(op) + ": " + ErrnoText(err);
  // A one-line detail (a path, a map name) reads as "op: text (detail)"; a log goes below.
  if (!detail.empty()) msg += detail.find('\n') == std::string::npos ? " (" + detail + ")" : "\n" + detail;
  return Decorate(Napi::Error::New(env, msg), op, err, ErrnoName(err));
}

void ThrowErrno(Napi::Env env, const char* op, int err, const std::string& detail) {
  throw MakeErrnoError(env, op, err, detail);
}

void ThrowType(Napi::Env env, const char* op, const std::string& msg) {
  throw Decorate(Napi::TypeError::New(env, std::string(op) + ": " + msg), op, EINVAL, "EINVAL");
}

void ThrowRange(Napi::Env env, const char* op, const std::string& msg) {
  throw Decorate(Napi::RangeError::New(env, std::string(op) + ": " + msg), op, EINVAL, "EINVAL");
}

}  // namespace bvs
