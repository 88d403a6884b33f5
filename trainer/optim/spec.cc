#include "trainer/optim/spec.h"

#include <stdio.h>
#include <stdlib.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

namespace sparrow {
namespace train {
namespace {

bool ValidKind(const std::string& kind) {
  if (kind.empty()) return false;
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Status Spec::Error(const char* format, ...) const {
  va_list args;
  va_start(args, format);
  const Status detail = MakeStatus(StatusCode::kInvalidArgument, format, args);
  va_end(args);
  return InvalidArgument("%s \"%s\": %s", what_.c_str(), text_.c_str(),
                         detail.message());
}

StatusOr<Spec> Spec::Parse(const std::string& text, const char* what) {
  Spec spec;
  spec.text_ = text;
  spec.what_ = what;
  const size_t colon = text.find(':');
  spec.kind_ = text.substr(0, colon);
  if (!ValidKind(spec.kind_)) {
    return spec.Error("the name \"%s\" must be non-empty [a-z0-9_]",
                      spec.kind_.c_str());
  }
  if (colon == std::string::npos) return spec;
  const std::string rest = text.substr(colon + 1);
  if (rest.empty()) return spec.Error("nothing after ':'");
  size_t begin = 0;
  while (true) {
    const size_t comma = rest.find(',', begin);
    const std::string item = rest.substr(
        begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return spec.Error("\"%s\" is not key=value", item.c_str());
    }
    std::string key = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    if (key.find_first_of(" \t=") != std::string::npos ||
        value.find_first_of(" \t=") != std::string::npos) {
      return spec.Error("\"%s\" is not key=value (no spaces)", item.c_str());
    }
    if (spec.Has(key.c_str())) {
      return spec.Error("key \"%s\" given twice", key.c_str());
    }
    spec.args_.emplace_back(std::move(key), std::move(value));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return spec;
}

bool Spec::Has(const char* key) const {
  for (const auto& kv : args_) {
    if (kv.first == key) return true;
  }
  return false;
}

const std::string* Spec::Find(const char* key, bool required, Status* s) const {
  for (const auto& kv : args_) {
    if (kv.first == key) return &kv.second;
  }
  if (required) *s = Error("%s needs %s=<value>", kind_.c_str(), key);
  return nullptr;
}

Status Spec::GetFloat(const char* key, bool required, float* value) const {
  Status s;
  const std::string* text = Find(key, required, &s);
  if (text == nullptr) return s;
  errno = 0;
  char* end = nullptr;
  const double d = strtod(text->c_str(), &end);
  const float f = static_cast<float>(d);
  if (end != text->c_str() + text->size() || errno == ERANGE || !isfinite(f)) {
    return Error("%s=%s is not a finite float", key, text->c_str());
  }
  *value = f;
  return OkStatus();
}

Status Spec::GetInt(const char* key, bool required, int64_t* value) const {
  Status s;
  const std::string* text = Find(key, required, &s);
  if (text == nullptr) return s;
  errno = 0;
  char* end = nullptr;
  const long long v = strtoll(text->c_str(), &end, 10);
  if (end != text->c_str() + text->size() || errno == ERANGE) {
    return Error("%s=%s is not a decimal integer", key, text->c_str());
  }
  *value = v;
  return OkStatus();
}

Status Spec::GetBool(const char* key, bool required, bool* value) const {
  Status s;
  const std::string* text = Find(key, required, &s);
  if (text == nullptr) return s;
  if (*text == "1" || *text == "true") {
    *value = true;
  } else if (*text == "0" || *text == "false") {
    *value = false;
  } else {
    return Error("%s=%s is not 0, 1, false or true", key, text->c_str());
  }
  return OkStatus();
}

Status Spec::CheckKeys(std::initializer_list<const char*> allowed) const {
  for (const auto& kv : args_) {
    bool known = false;
    for (const char* a : allowed) known = known || kv.first == a;
    if (known) continue;
    std::string list;
    for (const char* a : allowed)
      list += std::string(list.empty() ? "" : ", ") + a;
    if (list.empty()) {
      return Error("unknown key \"%s\": %s takes none", kv.first.c_str(),
                   kind_.c_str());
    }
    return Error("unknown key \"%s\": %s takes %s", kv.first.c_str(),
                 kind_.c_str(), list.c_str());
  }
  return OkStatus();
}

std::string ShortFloat(float v) {
  char buf[32];
  for (int digits = 1; digits <= 9; ++digits) {
    snprintf(buf, sizeof(buf), "%.*g", digits, v);
    if (strtof(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace train
}  // namespace sparrow
