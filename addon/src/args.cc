// args.cc: see args.h.
//
// Hot path note: map operations call these on every element op, so nothing here allocates
// unless it is about to throw (argument labels are built only for the error message).
#include "args.h"

#include <climits>
#include <cmath>
#include <cstring>

#include "errors.h"

namespace bvs {

namespace {

// Names an argument for an error message: "argument 2 (key)" or an option path.
struct Label {
  size_t index = 0;             // positional argument index, when `option` is null
  const char* name = "";
  const std::string* option = nullptr;
  std::string str() const {
    if (option) return *option;
    return std::string("argument ") + std::to_string(index + 1) + " (" + name + ")";
  }
};

uint64_t CheckUint(Napi::Env env, Napi::Value v, const char* op, const Label& l, uint64_t min, uint64_t max) {
  if (!v.IsNumber()) ThrowType(env, op, l.str() + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) ThrowRange(env, op, l.str() + " must be an integer");
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(env, op, l.str() + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                            "], got " + Napi::Number::New(env, d).ToString().Utf8Value());
  }
  return static_cast<uint64_t>(d);
}

std::string CheckString(Napi::Env env, Napi::Value v, const char* op, const Label& l) {
  if (!v.IsString()) ThrowType(env, op, l.str() + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  // A path or name with an embedded NUL would be silently truncated by the C call.
  if (s.find('\0') != std::string::npos) ThrowRange(env, op, l.str() + " must not contain NUL");
  return s;
}

Bytes CheckBytes(Napi::Env env, Napi::Value v, const char* op, const Label& l, const char* extra = "") {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (!v.IsTypedArray() ||
      napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    ThrowType(env, op, l.str() + extra + " must be a Uint8Array or Buffer");
  }
  Bytes b;
  b.data = static_cast<uint8_t*>(data);
  b.len = length;  // elements == bytes for Uint8Array
  b.present = true;
  return b;
}

Label Arg(size_t i, const char* name) {
  Label l;
  l.index = i;
  l.name = name;
  return l;
}

Label Opt(const std::string& name) {
  Label l;
  l.option = &name;
  return l;
}

}  // namespace

uint64_t ValueUint(Napi::Env env, Napi::Value v, const char* op, const std::string& name,
                   uint64_t min, uint64_t max) {
  return CheckUint(env, v, op, Opt(name), min, max);
}

std::string ValueString(Napi::Env env, Napi::Value v, const char* op, const std::string& name) {
  return CheckString(env, v, op, Opt(name));
}

int ArgFd(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return static_cast<int>(CheckUint(info.Env(), info[i], op, Arg(i, name), 0, INT32_MAX));
}

uint64_t ArgUint(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name,
                 uint64_t min, uint64_t max) {
  return CheckUint(info.Env(), info[i], op, Arg(i, name), min, max);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (!info[i].IsBoolean()) ThrowType(info.Env(), op, Arg(i, name).str() + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return CheckString(info.Env(), info[i], op, Arg(i, name));
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (!info[i].IsFunction()) ThrowType(info.Env(), op, Arg(i, name).str() + " must be a function");
  return info[i].As<Napi::Function>();
}

Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  return CheckBytes(info.Env(), info[i], op, Arg(i, name));
}

Bytes ArgBytesOrNull(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (info[i].IsNull() || info[i].IsUndefined()) return Bytes{};
  return CheckBytes(info.Env(), info[i], op, Arg(i, name), " (or null)");
}

void RequireLenEq(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what) {
  if (b.len != want) {
    ThrowRange(env, op, std::string(what) + " must be " + std::to_string(want) + " bytes, got " +
                            std::to_string(b.len));
  }
}

void RequireLenAtLeast(Napi::Env env, const Bytes& b, size_t want, const char* op, const char* what) {
  if (b.len < want) {
    ThrowRange(env, op, std::string(what) + " must be at least " + std::to_string(want) +
                            " bytes, got " + std::to_string(b.len));
  }
}

}  // namespace bvs
