// Tests for kernels/pool.h: every compiled target against the scalar
// reference (kernels/pool_scalar.h, itself checked against hand-worked
// windows below), bit for bit: max is exact and the argmax is defined by the
// visiting order, so there is no tolerance. Sweeps channel counts around
// every target's vector length, non-overlapping, overlapping and gapped
// windows, padding that clips windows on every side, batches and odd sizes;
// inputs with ties (small integers, signed zeros), NaN and -inf. x, y and
// argmax end at an inaccessible page, so reading or writing one float past
// any of them crashes the test.
#include "kernels/pool.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <limits>
#include <random>
#include <vector>

#include "kernels/pool_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/pool_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/pool-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_POOL_TEST_HELPERS_
#define SPARROW_KERNELS_POOL_TEST_HELPERS_
namespace sparrow {
namespace pool_test {

// `count` 4-byte elements ending exactly at a PROT_NONE page.
template <typename T>
class Guarded {
  static_assert(sizeof(T) == 4, "one layout for float and int32");

 public:
  explicit Guarded(size_t count) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = (count * sizeof(T) + page - 1) / page * page;
    map_bytes_ = bytes + page;
    map_ = static_cast<char*>(mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    HWY_ASSERT(map_ != MAP_FAILED);
    HWY_ASSERT(mprotect(map_ + bytes, page, PROT_NONE) == 0);
    data_ = reinterpret_cast<T*>(map_ + bytes) - count;
  }
  ~Guarded() { munmap(map_, map_bytes_); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;

  T* get() { return data_; }
  size_t size() const { return count_; }

 private:
  size_t count_, map_bytes_;
  char* map_;
  T* data_;
};

struct Shape {
  size_t n, h, w, c, kh, kw;
  int64_t sh, sw;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
};

// False when some clipped window would be empty (not a valid geometry).
inline bool MakeGeometry(const Shape& s, PoolGeometry* p) {
  const int64_t eh = static_cast<int64_t>(s.h) + s.pad_top + s.pad_bottom;
  const int64_t ew = static_cast<int64_t>(s.w) + s.pad_left + s.pad_right;
  if (eh < static_cast<int64_t>(s.kh) || ew < static_cast<int64_t>(s.kw)) {
    return false;
  }
  p->n = s.n;
  p->h = s.h;
  p->w = s.w;
  p->c = s.c;
  p->kh = s.kh;
  p->kw = s.kw;
  p->stride_h = s.sh;
  p->stride_w = s.sw;
  p->pad_top = s.pad_top;
  p->pad_left = s.pad_left;
  p->oh = static_cast<size_t>((eh - static_cast<int64_t>(s.kh)) / s.sh + 1);
  p->ow = static_cast<size_t>((ew - static_cast<int64_t>(s.kw)) / s.sw + 1);
  int64_t y0, y1, x0, x1;
  for (size_t oy = 0; oy < p->oh; ++oy) {
    p->Window(oy, 0, &y0, &y1, &x0, &x1);
    if (y0 >= y1) return false;
  }
  for (size_t ox = 0; ox < p->ow; ++ox) {
    p->Window(0, ox, &y0, &y1, &x0, &x1);
    if (x0 >= x1) return false;
  }
  return true;
}

enum class Fill { kRandom, kTies, kSpecial, kAllNan };

inline void FillInput(Fill fill, uint64_t seed, float* x, size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t i = 0; i < n; ++i) {
    switch (fill) {
      case Fill::kRandom:
        x[i] = uniform(rng);
        break;
      case Fill::kTies: {  // many equal maxima, and -0 vs +0
        const float vals[] = {0.0f, -0.0f, 1.0f, 2.0f, 2.0f, -1.0f};
        x[i] = vals[rng() % 6];
        break;
      }
      case Fill::kSpecial: {  // NaN (first or later in a window), +-inf
        const uint64_t r = rng() % 10;
        x[i] = r == 0   ? nan
               : r == 1 ? -inf
               : r == 2 ? inf
               : r == 3 ? -nan
                        : uniform(rng);
        break;
      }
      case Fill::kAllNan:
        x[i] = (rng() % 4 == 0) ? -inf : nan;
        break;
    }
  }
}

inline uint32_t Bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

// Runs `kernel(p, x, y, argmax)` with and without argmax against the
// reference; returns the number of mismatches (the first few reported).
template <class Kernel>
size_t CheckShape(const Shape& s, Fill fill, const Kernel& kernel) {
  PoolGeometry p;
  if (!MakeGeometry(s, &p)) return 0;
  const size_t nx = p.InputSize(), ny = p.OutputSize();
  Guarded<float> x(nx), y(ny);
  Guarded<int32_t> argmax(ny);
  const uint64_t seed = s.n * 1000003 + s.h * 10007 + s.w * 1009 + s.c * 101 +
                        s.kh * 11 + s.kw + static_cast<uint64_t>(fill) * 7;
  FillInput(fill, seed, x.get(), nx);
  std::vector<float> y_ref(ny);
  std::vector<int32_t> a_ref(ny, -1);
  MaxPool2DScalar<float>(p, x.get(), y_ref.data(), a_ref.data());

  size_t errors = 0;
  auto report = [&](const char* what, size_t i, double got, double want) {
    if (++errors <= 5) {
      ADD_FAILURE() << what << " n=" << s.n << " h=" << s.h << " w=" << s.w
                    << " c=" << s.c << " k=" << s.kh << "x" << s.kw
                    << " stride=" << s.sh << "," << s.sw
                    << " pads=" << s.pad_top << "," << s.pad_bottom << ","
                    << s.pad_left << "," << s.pad_right
                    << " fill=" << static_cast<int>(fill) << " i=" << i
                    << " got=" << got << " want=" << want;
    }
  };
  for (bool with_argmax : {true, false}) {
    for (size_t i = 0; i < ny; ++i) {
      y.get()[i] = 12345.0f;
      argmax.get()[i] = -7;
    }
    kernel(p, x.get(), y.get(), with_argmax ? argmax.get() : nullptr);
    for (size_t i = 0; i < ny; ++i) {
      if (Bits(y.get()[i]) != Bits(y_ref[i])) {
        report(with_argmax ? "y" : "y (no argmax)", i, y.get()[i], y_ref[i]);
      }
      const int32_t want = with_argmax ? a_ref[i] : -7;  // untouched if null
      if (argmax.get()[i] != want) {
        report("argmax", i, argmax.get()[i], want);
      }
    }
  }
  return errors;
}

}  // namespace pool_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_POOL_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {

size_t RunShape(const pool_test::Shape& s, pool_test::Fill fill) {
  return pool_test::CheckShape(
      s, fill,
      [](const PoolGeometry& p, const float* x, float* y, int32_t* argmax) {
        MaxPool2DImpl(p, x, y, argmax);
      });
}

// Channel counts around every target's lane count x window kinds x padding
// x batch x odd and even sizes x input kinds.
HWY_NOINLINE void TestAllPools() {
  struct Window {
    size_t k;
    int64_t stride;
  };
  const Window windows[] = {{2, 2}, {3, 2}, {3, 3}, {3, 1}, {2, 3}, {1, 1}};
  const size_t channels[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33};
  struct Pads {
    int64_t top, bottom, left, right;
  };
  const Pads pads[] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {1, 0, 0, 1}, {0, 1, 1, 0}};
  struct Size {
    size_t h, w;
  };
  const Size sizes[] = {{7, 9}, {8, 5}, {4, 4}, {1, 3}};
  const pool_test::Fill fills[] = {
      pool_test::Fill::kRandom, pool_test::Fill::kTies,
      pool_test::Fill::kSpecial, pool_test::Fill::kAllNan};
  size_t index = 0, checked = 0;
  for (size_t c : channels) {
    for (const Window& win : windows) {
      for (const Pads& pad : pads) {
        if (pad.top >= static_cast<int64_t>(win.k)) continue;
        for (size_t n : {1, 3}) {
          for (const Size& size : sizes) {
            const pool_test::Shape s = {n,          size.h,     size.w,
                                        c,          win.k,      win.k,
                                        win.stride, win.stride, pad.top,
                                        pad.bottom, pad.left,   pad.right};
            PoolGeometry p;
            if (!pool_test::MakeGeometry(s, &p)) continue;
            ++checked;
            // Every fill for small shapes; one per shape otherwise.
            for (size_t f = 0; f < 4; ++f) {
              if (c > 9 && f != index % 4) continue;
              ASSERT_EQ(0u, RunShape(s, fills[f]));
            }
            ++index;
          }
        }
      }
    }
  }
  HWY_ASSERT(checked > 1000);  // the sweep did not silently skip everything
}

// Non-square windows and strides, and the LeNet-5 shapes.
HWY_NOINLINE void TestAllOddWindows() {
  const pool_test::Shape shapes[] = {
      {2, 9, 11, 6, 2, 3, 1, 2, 1, 0, 0, 2},
      {1, 6, 10, 3, 3, 1, 2, 1, 2, 2, 0, 0},
      {3, 5, 5, 17, 5, 5, 2, 2, 4, 4, 4, 4},  // windows mostly padding
      {1, 13, 13, 16, 4, 4, 4, 4, 0, 3, 0, 3},
      {3, 28, 28, 6, 2, 2, 2, 2, 0, 0, 0, 0},   // LeNet-5 pool 1
      {3, 10, 10, 16, 2, 2, 2, 2, 0, 0, 0, 0},  // LeNet-5 pool 2
  };
  for (const pool_test::Shape& s : shapes) {
    for (pool_test::Fill f : {pool_test::Fill::kRandom, pool_test::Fill::kTies,
                              pool_test::Fill::kSpecial}) {
      ASSERT_EQ(0u, RunShape(s, f));
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(PoolTest);
HWY_EXPORT_AND_TEST_P(PoolTest, TestAllPools);
HWY_EXPORT_AND_TEST_P(PoolTest, TestAllOddWindows);
HWY_AFTER_TEST();

// ------------------------------ Public API (dispatched) and the reference

PoolGeometry Square(size_t n, size_t hw, size_t c, size_t k, int64_t stride) {
  PoolGeometry p;
  p.n = n;
  p.h = p.w = hw;
  p.c = c;
  p.kh = p.kw = k;
  p.stride_h = p.stride_w = stride;
  p.oh = p.ow = (hw - k) / static_cast<size_t>(stride) + 1;
  return p;
}

// The documented semantics on hand-worked 2x2 windows, for the reference and
// the dispatched kernel.
TEST(PoolApiTest, FirstMaximumAndNanSeed) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // x [1, 2, 8, 1]: four 2x2 windows, columns {0,1}, {2,3}, {4,5}, {6,7}.
  const float x[16] = {3, 5, nan, 1, -inf, -inf, 0.0f,  2,  //
                       5, 4, 7,   9, -inf, -inf, -0.0f, nan};
  const PoolGeometry p = [] {
    PoolGeometry g;
    g.h = 2;
    g.w = 8;
    g.kh = g.kw = g.stride_h = g.stride_w = 2;
    g.oh = 1;
    g.ow = 4;
    return g;
  }();
  const float want_y[4] = {5, nan, -inf, 2};
  const int32_t want_arg[4] = {1, 2, 4, 7};  // first 5 wins the tie with x[8]
  for (int kernel = 0; kernel < 2; ++kernel) {
    float y[4];
    int32_t arg[4];
    if (kernel == 0) {
      MaxPool2DScalar<float>(p, x, y, arg);
    } else {
      MaxPool2D(p, x, y, arg);
    }
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(pool_test::Bits(want_y[i]), pool_test::Bits(y[i]))
          << kernel << " " << i;
      EXPECT_EQ(want_arg[i], arg[i]) << kernel << " " << i;
    }
  }
  // -0 then +0: the first (-0) stays.
  const float zeros[4] = {-0.0f, 0.0f, 0.0f, 0.0f};
  float y0;
  int32_t a0;
  MaxPool2D(Square(1, 2, 1, 2, 2), zeros, &y0, &a0);
  EXPECT_TRUE(std::signbit(y0));
  EXPECT_EQ(0, a0);
}

TEST(PoolApiTest, LeNetShapesMatchReference) {
  const pool_test::Shape lenet[] = {{64, 28, 28, 6, 2, 2, 2, 2, 0, 0, 0, 0},
                                    {64, 10, 10, 16, 2, 2, 2, 2, 0, 0, 0, 0}};
  for (const pool_test::Shape& s : lenet) {
    EXPECT_EQ(0u,
              pool_test::CheckShape(s, pool_test::Fill::kRandom, MaxPool2D));
  }
}

TEST(PoolApiTest, EmptyBatchWritesNothing) {
  PoolGeometry p = Square(0, 4, 3, 2, 2);
  float y = 5.0f;
  int32_t a = 9;
  MaxPool2D(p, nullptr, &y, &a);
  EXPECT_EQ(5.0f, y);
  EXPECT_EQ(9, a);
}

TEST(PoolApiDeathTest, EmptyWindowAborts) {
  PoolGeometry p = Square(1, 4, 1, 2, 2);
  p.pad_top = 2;  // window of oy = 0 is rows [-2, 0): empty
  std::vector<float> x(16), y(4);
  EXPECT_DEATH(MaxPool2D(p, x.data(), y.data(), nullptr), "");
}

}  // namespace sparrow
#endif  // HWY_ONCE
