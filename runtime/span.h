// A read-only view of a contiguous array (C++17 has no std::span).
//
//   sparrow::Span<const int32_t> shape = model.tensor(3).shape;
//   for (int32_t d : shape) printf("%d ", d);
//
// Owns nothing: the array must outlive the span. Trivially copyable.
#ifndef SPARROW_RUNTIME_SPAN_H_
#define SPARROW_RUNTIME_SPAN_H_

#include <stddef.h>

#include "hwy/base.h"

namespace sparrow {

template <typename T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}

  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }
  T& operator[](size_t i) const {
    HWY_DASSERT(i < size_);
    return data_[i];
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_SPAN_H_
