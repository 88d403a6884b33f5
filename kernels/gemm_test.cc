// Tests for gemm.h: every compiled target against the scalar reference in
// double, then the dispatched API and its workspace contract.
//
// Tolerance (per element, relative to S = sum_p |op(A)_ip| |op(B)_pj|):
// the kernel forms each sum with one FMA rounding per product, then one
// rounding for alpha and one for folding beta*C or the previous k block's
// partial sum, so Higham's bound gives
//   |err| <= (k + 2 * blocks + 2) * u * |alpha| * S + 2u * |beta C|,
// u = 2^-24, blocks = ceil(k / kGemmBlockK). The reference is exact to far
// below that (double). A wrong index or a missing term errs by O(S / k) or
// more, far above the bound, so the test cannot pass by accident.
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <limits>
#include <random>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/gemm_scalar.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/gemm_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/hwy_gtest.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/gemm-inl.h"

// Highway 1.0.3 predates HWY_AFTER_TEST; keep the house spelling.
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_GEMM_TEST_ONCE_
#define SPARROW_KERNELS_GEMM_TEST_ONCE_
namespace sparrow {
namespace gemm_test {

constexpr double kU = 1.0 / (1 << 24);  // unit roundoff of float

inline size_t Blocks(size_t k) {
  return k == 0 ? 1 : (k + kGemmBlockK - 1) / kGemmBlockK;
}

inline std::vector<float> Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::vector<double> ToDouble(const float* p, size_t n) {
  return std::vector<double>(p, p + n);
}

// The padding of a strided matrix must survive the call untouched.
constexpr float kSentinel = -12345.0f;

// One Gemm case: builds strided, offset inputs, runs `run` (the SIMD kernel)
// and checks every element of C against the double reference and the
// padding against the sentinel. Returns false (after a gtest failure) on the
// first mismatch so a broken kernel does not print thousands of lines.
template <class Run>
bool CheckGemm(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
               float alpha, float beta, size_t offset, size_t pad,
               uint64_t seed, const Run& run) {
  const size_t a_rows = ta == Transpose::kNo ? m : k;
  const size_t a_cols = ta == Transpose::kNo ? k : m;
  const size_t b_rows = tb == Transpose::kNo ? k : n;
  const size_t b_cols = tb == Transpose::kNo ? n : k;
  const size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
  // Allocate offset + rows*ld (+1 so that an empty matrix has a pointer).
  std::vector<float> a_buf = Random(offset + a_rows * lda + 1, seed);
  std::vector<float> b_buf = Random(offset + b_rows * ldb + 1, seed + 1);
  std::vector<float> c_buf = Random(offset + m * ldc + 1, seed + 2);
  float* a = a_buf.data() + offset;
  float* b = b_buf.data() + offset;
  float* c = c_buf.data() + offset;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = n; j < ldc; ++j) c[i * ldc + j] = kSentinel;
    if (beta == 0.0f) {  // must be ignored
      for (size_t j = 0; j < n; ++j) {
        c[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  }
  const std::vector<double> ad = ToDouble(a, a_rows * lda);
  const std::vector<double> bd = ToDouble(b, b_rows * ldb);
  std::vector<double> cd = ToDouble(c, m * ldc);
  // |A| |B| for the bound.
  std::vector<double> aa(ad.size()), ba(bd.size()), s(m * ldc, 0.0);
  for (size_t i = 0; i < ad.size(); ++i) aa[i] = fabs(ad[i]);
  for (size_t i = 0; i < bd.size(); ++i) ba[i] = fabs(bd[i]);
  GemmScalar<double>(ta, tb, m, n, k, alpha, ad.data(), lda, bd.data(), ldb,
                     beta, cd.data(), ldc);
  GemmScalar<double>(ta, tb, m, n, k, 1.0, aa.data(), lda, ba.data(), ldb,
                     0.0, s.data(), ldc);
  std::vector<float> c_old(c, c + m * ldc);

  run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

  const double rounds = static_cast<double>(k + 2 * Blocks(k) + 2);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < ldc; ++j) {
      const size_t idx = i * ldc + j;
      if (j >= n) {
        if (c[idx] != kSentinel) {
          ADD_FAILURE() << "padding overwritten at i=" << i << " j=" << j
                        << " m=" << m << " n=" << n << " k=" << k;
          return false;
        }
        continue;
      }
      const double old = beta == 0.0f ? 0.0 : fabs(beta * c_old[idx]);
      const double tol = rounds * kU * fabs(alpha) * s[idx] + 2 * kU * old;
      const double err = fabs(c[idx] - cd[idx]);
      if (!(err <= tol)) {
        ADD_FAILURE() << "ta=" << static_cast<int>(ta)
                      << " tb=" << static_cast<int>(tb) << " m=" << m
                      << " n=" << n << " k=" << k << " alpha=" << alpha
                      << " beta=" << beta << " offset=" << offset
                      << " pad=" << pad << " at (" << i << "," << j
                      << "): got " << c[idx] << " want " << cd[idx]
                      << " err " << err << " tol " << tol;
        return false;
      }
    }
  }
  return true;
}

// Lipschitz constant of each activation (bounds how the pre-activation
// error propagates): sigmoid' <= 1/4, gelu' <= 1.13, others <= 1.
inline double Lipschitz(Activation act) {
  switch (act) {
    case Activation::kSigmoid:
      return 0.25;
    case Activation::kGelu:
      return 1.13;
    default:
      return 1.0;
  }
}

}  // namespace gemm_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_GEMM_TEST_ONCE_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace {

using gemm_test::CheckGemm;

// Runs this target's kernel (not the dispatched one) with an exact-size,
// freshly allocated workspace, so ASan sees any overrun.
void RunThisTarget(Transpose ta, Transpose tb, size_t m, size_t n, size_t k,
                   float alpha, const float* a, size_t lda, const float* b,
                   size_t ldb, float beta, float* c, size_t ldc) {
  const size_t bytes = GemmWorkspaceBytes(m, n, k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  GemmImpl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ws.get());
}

std::vector<size_t> Sizes() {
  const size_t N = hn::Lanes(GemmD());
  std::vector<size_t> sizes = {1,     N - 1,         N,
                               N + 1, 3 * N,         8 * N + 2,
                               kTileRows - 1, kTileRows + 1};
  std::vector<size_t> unique;
  for (size_t s : sizes) {
    bool seen = false;
    for (size_t u : unique) seen |= u == s;
    if (!seen && s != 0) unique.push_back(s);
  }
  return unique;
}

void TestAllGemm() {
  const size_t N = hn::Lanes(GemmD());
  const std::vector<size_t> sizes = Sizes();
  const size_t offsets[3] = {0, 1, N / 2};
  struct AlphaBeta {
    float alpha, beta;
  };
  const AlphaBeta ab[4] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 0.25f},
                           {2.0f, 0.0f}};
  const Transpose kT[2] = {Transpose::kNo, Transpose::kYes};
  size_t idx = 0;
  // Every size combination with every transpose pair; alpha/beta, pointer
  // offset and leading-dimension padding rotate so each value meets many
  // shapes.
  for (size_t m : sizes) {
    for (size_t n : sizes) {
      for (size_t k : sizes) {
        for (Transpose ta : kT) {
          for (Transpose tb : kT) {
            const AlphaBeta& p = ab[idx % 4];
            const size_t offset = offsets[(idx / 4) % 3];
            const size_t pad = (idx / 3) % 2 == 0 ? 0 : 5;
            ++idx;
            if (!CheckGemm(ta, tb, m, n, k, p.alpha, p.beta, offset, pad, idx,
                           RunThisTarget)) {
              return;
            }
          }
        }
      }
    }
  }
  // Crossing every cache block (k blocks accumulate into C, several B and A
  // blocks), and k == 0 / alpha == 0 (C = beta C).
  struct Shape {
    size_t m, n, k;
  };
  const Shape big[] = {
      {kGemmBlockM + kTileRows + 1, 2 * kTileCols + 3, 2 * kGemmBlockK + 5},
      {kTileRows + 1, kGemmBlockN + N + 1, kGemmBlockK + 3},
      {3, 5, 0},
  };
  for (const Shape& s : big) {
    for (Transpose ta : kT) {
      for (Transpose tb : kT) {
        ++idx;
        if (!CheckGemm(ta, tb, s.m, s.n, s.k, 1.5f, 0.5f, 1, 3, idx,
                       RunThisTarget) ||
            !CheckGemm(ta, tb, s.m, s.n, s.k, 1.0f, 0.0f, 0, 0, idx,
                       RunThisTarget)) {
          return;
        }
      }
    }
  }
  // alpha == 0: A and B are not read, so NaNs there do not matter.
  {
    const size_t m = 5, n = N + 3, k = 7;
    std::vector<float> a(m * k, std::numeric_limits<float>::quiet_NaN());
    std::vector<float> b(k * n, std::numeric_limits<float>::quiet_NaN());
    std::vector<float> c = gemm_test::Random(m * n, 99);
    const std::vector<float> c0 = c;
    RunThisTarget(Transpose::kNo, Transpose::kNo, m, n, k, 0.0f, a.data(), k,
                  b.data(), n, 2.0f, c.data(), n);
    for (size_t i = 0; i < m * n; ++i) HWY_ASSERT_EQ(2.0f * c0[i], c[i]);
  }
}

void TestAllGemmBiasActivation() {
  const size_t N = hn::Lanes(GemmD());
  const std::vector<size_t> sizes = Sizes();
  const size_t ks[] = {1, 3 * N, 8 * N + 2, kGemmBlockK + 3};
  const Activation acts[] = {Activation::kIdentity, Activation::kRelu,
                             Activation::kSigmoid, Activation::kTanh,
                             Activation::kGelu};
  const Accuracy accs[] = {Accuracy::kPrecise, Accuracy::kFast};
  size_t idx = 0;
  for (Activation act : acts) {
    for (Accuracy accuracy : accs) {
      for (size_t m : sizes) {
        for (size_t n : sizes) {
          const size_t k = ks[idx % 4];
          const size_t offset = (idx / 4) % 2 == 0 ? 0 : 1;
          const size_t pad = idx % 3 == 0 ? 0 : 2;
          const bool with_bias = idx % 5 != 4;
          ++idx;
          const size_t ldx = k + pad, ldw = k + pad, ldy = n + pad;
          std::vector<float> x = gemm_test::Random(offset + m * ldx, idx);
          std::vector<float> w = gemm_test::Random(offset + n * ldw, idx + 1);
          std::vector<float> bias = gemm_test::Random(offset + n, idx + 2);
          // Scale up so tanh/sigmoid saturate for some elements.
          for (float& v : bias) v *= 4.0f;
          std::vector<float> y(offset + m * ldy,
                               std::numeric_limits<float>::quiet_NaN());
          const float* xp = x.data() + offset;
          const float* wp = w.data() + offset;
          const float* bp = with_bias ? bias.data() + offset : nullptr;
          float* yp = y.data() + offset;

          const size_t bytes = GemmWorkspaceBytes(m, n, k);
          auto ws = hwy::AllocateAligned<uint8_t>(bytes);
          GemmBiasActivationImpl(m, n, k, xp, ldx, wp, ldw, bp, act, accuracy,
                                 yp, ldy, ws.get());

          const double rounds = static_cast<double>(k + 2 * gemm_test::Blocks(k) + 3);
          for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < n; ++j) {
              double pre = bp ? bp[j] : 0.0, s = bp ? fabs(bp[j]) : 0.0;
              for (size_t p = 0; p < k; ++p) {
                pre += double(xp[i * ldx + p]) * wp[j * ldw + p];
                s += fabs(double(xp[i * ldx + p]) * wp[j * ldw + p]);
              }
              const double want = ActivateRef<double>(act, pre);
              // Pre-activation bound (see top), propagated through the
              // activation, plus the activation's own promise
              // (activation_type.h): kPrecise <= 4 ULP (taken relative to
              // |y| + |pre| so gelu's 0.5 x (1 + tanh) cancellation is
              // covered), kFast <= 1e-4 absolute (scaled by 1 + |pre| for
              // gelu's factor x).
              const double act_tol =
                  act == Activation::kIdentity || act == Activation::kRelu
                      ? 0.0
                  : accuracy == Accuracy::kFast
                      ? 1e-4 * (1.0 + fabs(pre))
                      : 8.0 * gemm_test::kU * (fabs(want) + fabs(pre));
              const double tol = gemm_test::Lipschitz(act) * rounds *
                                     gemm_test::kU * s +
                                 act_tol;
              const float got = yp[i * ldy + j];
              const double err = fabs(got - want);
              if (!(err <= tol)) {
                HWY_ABORT("act=%d acc=%d m=%zu n=%zu k=%zu bias=%d at "
                          "(%zu,%zu): got %.9g want %.9g err %g tol %g",
                          static_cast<int>(act), static_cast<int>(accuracy),
                          m, n, k, with_bias, i, j, got, want, err, tol);
              }
            }
            for (size_t j = n; j < ldy; ++j) {
              HWY_ASSERT(isnan(yp[i * ldy + j]));  // padding untouched
            }
          }
        }
      }
    }
  }
}

}  // namespace
// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(GemmTest);
HWY_EXPORT_AND_TEST_P(GemmTest, TestAllGemm);
HWY_EXPORT_AND_TEST_P(GemmTest, TestAllGemmBiasActivation);
HWY_AFTER_TEST();

// The reference itself, on values small enough to check by hand.
TEST(GemmScalarTest, HandComputed) {
  // A = [1 2; 3 4], B = [5 6; 7 8]: A B = [19 22; 43 50].
  const double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  double c[4] = {1, 1, 1, 1};
  GemmScalar<double>(Transpose::kNo, Transpose::kNo, 2, 2, 2, 2.0, a, 2, b, 2,
                     -1.0, c, 2);
  EXPECT_EQ(37, c[0]);
  EXPECT_EQ(43, c[1]);
  EXPECT_EQ(85, c[2]);
  EXPECT_EQ(99, c[3]);
  // Aᵀ Bᵀ = (B A)ᵀ = [23 31; 34 46].
  GemmScalar<double>(Transpose::kYes, Transpose::kYes, 2, 2, 2, 1.0, a, 2, b,
                     2, 0.0, c, 2);
  EXPECT_EQ(23, c[0]);
  EXPECT_EQ(31, c[1]);
  EXPECT_EQ(34, c[2]);
  EXPECT_EQ(46, c[3]);
}

// The dispatched entry points, both with and without a caller workspace.
TEST(GemmApiTest, DispatchedMatchesReference) {
  const size_t m = 64, n = 48, k = 40;
  std::vector<float> x = gemm_test::Random(m * k, 1);
  std::vector<float> w = gemm_test::Random(n * k, 2);
  std::vector<float> bias = gemm_test::Random(n, 3);
  std::vector<float> y1(m * n, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> y2(m * n, std::numeric_limits<float>::quiet_NaN());
  Gemm(Transpose::kNo, Transpose::kYes, m, n, k, 1.0f, x.data(), k, w.data(),
       k, 0.0f, y1.data(), n);
  const size_t bytes = GemmWorkspaceBytes(m, n, k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  GemmBiasActivation(m, n, k, x.data(), k, w.data(), k, bias.data(),
                     Activation::kTanh, Accuracy::kPrecise, y2.data(), n,
                     ws.get(), bytes);
  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  std::vector<double> bd(bias.begin(), bias.end()), ref(m * n);
  GemmScalar<double>(Transpose::kNo, Transpose::kYes, m, n, k, 1.0, xd.data(),
                     k, wd.data(), k, 0.0, ref.data(), n);
  for (size_t i = 0; i < m * n; ++i) {
    // |x|, |w| < 1: S < k, so the bound is (k + 4) u k < 1e-4.
    EXPECT_NEAR(ref[i], y1[i], 1e-4) << i;
    EXPECT_NEAR(std::tanh(ref[i] + bd[i % n]), y2[i], 1e-4) << i;
  }
}

TEST(GemmApiTest, WorkspaceBytes) {
  // Never zero, so an allocation of this size is a real pointer.
  EXPECT_GT(GemmWorkspaceBytes(0, 0, 0), 0u);
  // Grows with n and k, then saturates at the cache blocks; does not depend
  // on the batch m (A is read in place), so the runtime's budget is fixed.
  EXPECT_EQ(GemmWorkspaceBytes(8, 64, 64), GemmWorkspaceBytes(100000, 64, 64));
  EXPECT_LT(GemmWorkspaceBytes(8, 64, 64), GemmWorkspaceBytes(8, 129, 64));
  EXPECT_LT(GemmWorkspaceBytes(8, 64, 64), GemmWorkspaceBytes(8, 64, 65));
  EXPECT_EQ(GemmWorkspaceBytes(kGemmBlockM, kGemmBlockN, kGemmBlockK),
            GemmWorkspaceBytes(100000, 100000, 100000));
  // Bounded: (K block x N block + K block x M block) floats plus rounding.
  EXPECT_LE(GemmWorkspaceBytes(100000, 100000, 100000),
            (kGemmBlockK * (kGemmBlockN + kGemmMaxTileN) +
             kGemmBlockK * kGemmMaxTileM) *
                    sizeof(float) +
                64);
}

TEST(GemmApiTest, EmptyShapesDoNotTouchMemory) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float c[4] = {nan, nan, nan, nan};
  // m == 0 or n == 0: nothing is read or written (null inputs are fine).
  Gemm(Transpose::kNo, Transpose::kNo, 0, 2, 3, 1.0f, nullptr, 3, nullptr, 2,
       0.0f, c, 2);
  Gemm(Transpose::kNo, Transpose::kNo, 2, 0, 3, 1.0f, nullptr, 3, nullptr, 0,
       0.0f, c, 0);
  for (float v : c) EXPECT_TRUE(isnan(v));
  // k == 0 and beta == 0: C becomes zero without being read.
  Gemm(Transpose::kNo, Transpose::kNo, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2,
       0.0f, c, 2);
  for (float v : c) EXPECT_EQ(0.0f, v);
}

TEST(GemmApiDeathTest, RejectsSmallWorkspace) {
  const size_t m = 16, n = 16, k = 16;
  std::vector<float> a(m * k), b(k * n), c(m * n);
  const size_t bytes = GemmWorkspaceBytes(m, n, k);
  auto ws = hwy::AllocateAligned<uint8_t>(bytes);
  EXPECT_DEATH(Gemm(Transpose::kNo, Transpose::kNo, m, n, k, 1.0f, a.data(),
                    k, b.data(), n, 0.0f, c.data(), n, ws.get(), bytes - 1),
               "");
  EXPECT_DEATH(Gemm(Transpose::kNo, Transpose::kNo, m, n, k, 1.0f, a.data(),
                    k - 1, b.data(), n, 0.0f, c.data(), n, ws.get(), bytes),
               "");
}

}  // namespace sparrow
#endif  // HWY_ONCE
