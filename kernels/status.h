// Status and StatusOr: recoverable errors at Sparrow's boundaries.
//
//   sparrow::StatusOr<Model> m = Model::FromFile("x.spw");
//   if (!m.ok()) { fprintf(stderr, "%s\n", m.status().message()); return 1; }
//   Model model = std::move(m).value();
//
// Contract: no exceptions, no RTTI, no heap allocation for the OK path. A
// message names the offending field and value. Broken internal invariants are
// not Status: they abort through HWY_ASSERT.
#ifndef SPARROW_KERNELS_STATUS_H_
#define SPARROW_KERNELS_STATUS_H_

#include <stdarg.h>

#include <new>
#include <string>
#include <utility>

#include "hwy/base.h"

namespace sparrow {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // The caller passed something malformed.
  kOutOfRange,       // An index or size outside what is allowed.
  kDataLoss,         // A file or buffer is truncated or corrupt.
  kNotFound,
  kResourceExhausted,  // Arena or memory budget too small.
  kFailedPrecondition,
  kUnimplemented,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const char* message() const { return message_.c_str(); }
  // "INVALID_ARGUMENT: rows=0 must be positive".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

// printf-style constructors, so messages can carry the offending value.
Status InvalidArgument(const char* format, ...)
    __attribute__((format(printf, 1, 2)));
Status OutOfRange(const char* format, ...)
    __attribute__((format(printf, 1, 2)));
Status DataLoss(const char* format, ...) __attribute__((format(printf, 1, 2)));
Status NotFound(const char* format, ...) __attribute__((format(printf, 1, 2)));
Status ResourceExhausted(const char* format, ...)
    __attribute__((format(printf, 1, 2)));
Status FailedPrecondition(const char* format, ...)
    __attribute__((format(printf, 1, 2)));
Status Unimplemented(const char* format, ...)
    __attribute__((format(printf, 1, 2)));
Status Internal(const char* format, ...) __attribute__((format(printf, 1, 2)));
Status MakeStatus(StatusCode code, const char* format, va_list args);

// Holds a T or a non-OK Status. value() on an error aborts (a caller bug).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    HWY_ASSERT(!status_.ok());  // An OK StatusOr must hold a value.
  }
  StatusOr(T value) : has_value_(true) {  // NOLINT
    new (&storage_) T(std::move(value));
  }
  StatusOr(StatusOr&& other) noexcept : status_(std::move(other.status_)) {
    if (other.has_value_) {
      new (&storage_) T(std::move(*other.ptr()));
      has_value_ = true;
    }
  }
  StatusOr& operator=(StatusOr&& other) noexcept {
    if (this != &other) {
      Reset();
      status_ = std::move(other.status_);
      if (other.has_value_) {
        new (&storage_) T(std::move(*other.ptr()));
        has_value_ = true;
      }
    }
    return *this;
  }
  StatusOr(const StatusOr&) = delete;
  StatusOr& operator=(const StatusOr&) = delete;
  ~StatusOr() { Reset(); }

  bool ok() const { return has_value_; }
  const Status& status() const { return status_; }

  T& value() & {
    HWY_ASSERT(has_value_);
    return *ptr();
  }
  const T& value() const& {
    HWY_ASSERT(has_value_);
    return *ptr();
  }
  T&& value() && {
    HWY_ASSERT(has_value_);
    return std::move(*ptr());
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  T* ptr() { return std::launder(reinterpret_cast<T*>(&storage_)); }
  const T* ptr() const {
    return std::launder(reinterpret_cast<const T*>(&storage_));
  }
  void Reset() {
    if (has_value_) {
      ptr()->~T();
      has_value_ = false;
    }
  }

  Status status_;
  bool has_value_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace sparrow

// Returns early from the enclosing function when `expr` is not OK.
#define SPARROW_RETURN_IF_ERROR(expr)             \
  do {                                            \
    ::sparrow::Status sparrow_status_ = (expr);   \
    if (!sparrow_status_.ok()) return sparrow_status_; \
  } while (0)

#endif  // SPARROW_KERNELS_STATUS_H_
