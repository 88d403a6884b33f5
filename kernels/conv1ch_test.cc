// Tests for kernels/conv1ch.h: every compiled target against the scalar
// reference run in double (itself cross-checked against Im2Col + a naive
// matmul), over image sizes around the vector lengths, filters 1..7 (also
// non-square), asymmetric pads 0..3, channel counts around the 6-channel
// register block, and misaligned pointers.
//
// Tolerances. Let u = 2^-24 and S the sum of |terms| of one output (|bias|
// + sum |w x| forward, sum |dy x| (+ |dw0|) for a weight gradient). An f32
// sum computed as a tree of depth d has |err| <= d u S (Higham, to first
// order). Forward outputs are the bias plus a sequential FMA chain over the
// KH KW taps: d = KH KW + 1. A weight gradient is a per-lane chain over at
// most OH ceil(OW / N) vectors per dy block, one add per block into the
// partial sums (N OH blocks at most), the chains merged (2) and a log2(N)
// lane reduction plus the add onto dw0: d <= OH ceil(OW / N) + N_img OH +
// log2(N) + 4. We allow twice d. A missing, duplicated or misplaced term is
// O(|term|), far above that for these sizes. Activations (as gemv_test.cc):
// the pre-activation error is scaled by at most max|act'| <= 1.13 (GELU);
// kPrecise tanh / sigmoid / GELU add <= 8 * 2^-23 (|y| + |x|), kFast
// <= 1e-4 (1 + |x|).
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <random>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "kernels/conv1ch.h"
#include "kernels/conv1ch_scalar.h"
#include "kernels/im2col.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/conv1ch_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/tests/test_util-inl.h"
#include "kernels/conv1ch-inl.h"

// Highway 1.0.3 has no HWY_AFTER_TEST (newer versions do).
#ifndef HWY_AFTER_TEST
#define HWY_AFTER_TEST() static_assert(true, "")
#endif

#ifndef SPARROW_KERNELS_CONV1CH_TEST_HELPERS_
#define SPARROW_KERNELS_CONV1CH_TEST_HELPERS_
namespace sparrow {
namespace conv1ch_test {

struct Shape {
  size_t n, h, w, kh, kw;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  size_t O;
};

inline bool MakeGeometry(const Shape& s, ConvGeometry* g) {
  const int64_t oh = static_cast<int64_t>(s.h) + s.pad_top + s.pad_bottom -
                     static_cast<int64_t>(s.kh) + 1;
  const int64_t ow = static_cast<int64_t>(s.w) + s.pad_left + s.pad_right -
                     static_cast<int64_t>(s.kw) + 1;
  if (oh < 1 || ow < 1) return false;
  g->n = s.n;
  g->h = s.h;
  g->w = s.w;
  g->c = 1;
  g->kh = s.kh;
  g->kw = s.kw;
  g->oh = static_cast<size_t>(oh);
  g->ow = static_cast<size_t>(ow);
  g->pad_top = s.pad_top;
  g->pad_left = s.pad_left;
  return true;
}

inline void FillRandom(float* p, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

inline std::vector<double> ToDouble(const float* p, size_t n) {
  return std::vector<double>(p, p + n);
}

inline std::vector<float> ToFloatCopy(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

inline std::vector<double> Abs(const std::vector<double>& v) {
  std::vector<double> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::abs(v[i]);
  return a;
}

// The same convolution as Im2Col + a naive matmul in double: an independent
// definition the scalar reference must agree with.
inline void ForwardIm2Col(const ConvGeometry& g, const std::vector<double>& x,
                          const std::vector<double>& w, const double* b,
                          size_t O, std::vector<double>* y) {
  const size_t rows = g.PatchRows(), k = g.PatchCols();
  std::vector<double> cols(rows * k);
  Im2Col(g, x.data(), 0, rows, cols.data());
  y->assign(rows * O, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t o = 0; o < O; ++o) {
      double s = b ? b[o] : 0.0;
      for (size_t i = 0; i < k; ++i) s += cols[r * k + i] * w[o * k + i];
      (*y)[r * O + o] = s;
    }
}

inline void WeightGradIm2Col(const ConvGeometry& g,
                             const std::vector<double>& x,
                             const std::vector<double>& dy, size_t O,
                             std::vector<double>* dw) {
  const size_t rows = g.PatchRows(), k = g.PatchCols();
  std::vector<double> cols(rows * k);
  Im2Col(g, x.data(), 0, rows, cols.data());
  dw->assign(O * k, 0.0);
  for (size_t r = 0; r < rows; ++r)
    for (size_t o = 0; o < O; ++o)
      for (size_t i = 0; i < k; ++i) {
        (*dw)[o * k + i] += dy[r * O + o] * cols[r * k + i];
      }
}

struct Act {
  Activation act;
  Accuracy acc;
};
constexpr Act kActivations[] = {{Activation::kIdentity, Accuracy::kPrecise},
                                {Activation::kRelu, Accuracy::kPrecise},
                                {Activation::kSigmoid, Accuracy::kPrecise},
                                {Activation::kTanh, Accuracy::kFast},
                                {Activation::kGelu, Accuracy::kPrecise},
                                {Activation::kTanh, Accuracy::kPrecise}};

// Checks one geometry in every direction; returns the number of mismatches.
// `forward(x, w, b, act, acc, y, scratch, r0, r1)` and
// `backward(x, dy, dw, db, scratch)` run the kernel under test.
template <class Forward, class Backward>
size_t CheckShape(const Shape& s, size_t lanes, size_t off, Act a,
                  bool check_determinism, const Forward& forward,
                  const Backward& backward) {
  ConvGeometry g;
  if (!MakeGeometry(s, &g)) return 0;
  const size_t O = s.O, kk = g.kh * g.kw;
  const size_t nx = g.n * g.h * g.w, ny = g.n * g.oh * g.ow * O;
  const size_t scratch_floats = Conv1ChScratchFloats(g);
  const size_t pad = 16;
  auto x = hwy::AllocateAligned<float>(nx + pad);
  auto w = hwy::AllocateAligned<float>(O * kk + pad);
  auto b = hwy::AllocateAligned<float>(O + pad);
  auto y = hwy::AllocateAligned<float>(ny + pad);
  auto y2 = hwy::AllocateAligned<float>(ny + pad);
  auto dy = hwy::AllocateAligned<float>(ny + pad);
  auto dw = hwy::AllocateAligned<float>(O * kk + pad);
  auto db = hwy::AllocateAligned<float>(O + pad);
  auto scratch = hwy::AllocateAligned<float>(scratch_floats + pad);
  float* xp = x.get() + off;
  float* wp = w.get() + off;
  float* bp = b.get() + off;
  float* yp = y.get() + off;
  float* dyp = dy.get() + off;
  float* dwp = dw.get() + off;
  float* dbp = db.get() + off;
  float* sp = scratch.get() + off;
  const uint64_t seed = s.n * 1000003 + s.h * 10007 + s.w * 1009 +
                        s.kh * 101 + s.kw * 11 + O;
  FillRandom(xp, nx, seed + 1);
  FillRandom(wp, O * kk, seed + 2);
  FillRandom(bp, O, seed + 3);
  FillRandom(dyp, ny, seed + 4);
  FillRandom(dwp, O * kk, seed + 5);
  FillRandom(dbp, O, seed + 6);
  // Garbage in scratch: the kernels must not depend on its contents.
  for (size_t i = 0; i < scratch_floats; ++i) sp[i] = 1e30f;

  const std::vector<double> xd = ToDouble(xp, nx), wd = ToDouble(wp, O * kk),
                            bd = ToDouble(bp, O), dyd = ToDouble(dyp, ny),
                            dw0 = ToDouble(dwp, O * kk), db0 = ToDouble(dbp, O);
  const Activation act = a.act;
  size_t errors = 0;
  auto report = [&](const char* what, size_t i, double got, double ref,
                    double tol) {
    if (++errors <= 5) {
      ADD_FAILURE() << what << " n=" << s.n << " h=" << s.h << " w=" << s.w
                    << " k=" << s.kh << "x" << s.kw << " pads=" << s.pad_top
                    << "," << s.pad_bottom << "," << s.pad_left << ","
                    << s.pad_right << " O=" << O << " off=" << off
                    << " act=" << static_cast<int>(act)
                    << " acc=" << static_cast<int>(a.acc) << " i=" << i
                    << " got=" << got << " ref=" << ref << " tol=" << tol;
    }
  };
  const double u = std::ldexp(1.0, -24);

  // ---- Forward, with and without bias.
  for (bool with_bias : {true, false}) {
    const double* bref = with_bias ? bd.data() : nullptr;
    std::vector<double> pre(ny), abs_sum(ny), via_im2col;
    Conv1ChForwardScalar<double>(g, xd.data(), wd.data(), bref, O,
                                 Activation::kIdentity, pre.data());
    const std::vector<double> xa = Abs(xd), wa = Abs(wd), ba = Abs(bd);
    Conv1ChForwardScalar<double>(g, xa.data(), wa.data(),
                                 with_bias ? ba.data() : nullptr, O,
                                 Activation::kIdentity, abs_sum.data());
    ForwardIm2Col(g, xd, wd, bref, O, &via_im2col);
    for (size_t i = 0; i < ny; ++i) {
      if (!(std::abs(via_im2col[i] - pre[i]) <= 1e-12 * (1.0 + abs_sum[i]))) {
        report("reference vs im2col", i, pre[i], via_im2col[i], 1e-12);
      }
    }
    yp[ny] = 12345.0f;
    forward(xp, wp, with_bias ? bp : nullptr, act, a.acc, yp, sp, 0,
            g.n * g.oh);
    if (yp[ny] != 12345.0f) report("forward sentinel", ny, yp[ny], 12345, 0);
    const double depth = static_cast<double>(kk) + 1.0;
    for (size_t i = 0; i < ny; ++i) {
      const double ref = ActivateRef<double>(act, pre[i]);
      double tol = 1.13 * 2.0 * depth * u * abs_sum[i] + 1e-37;
      if (act == Activation::kSigmoid || act == Activation::kTanh ||
          act == Activation::kGelu) {
        tol += a.acc == Accuracy::kFast
                   ? 1e-4 * (1.0 + std::abs(pre[i]))
                   : 8.0 * std::ldexp(1.0, -23) *
                         (std::abs(ref) + std::abs(pre[i]));
      }
      const double err = std::abs(static_cast<double>(yp[i]) - ref);
      if (!(err <= tol)) report("forward", i, yp[i], ref, tol);
    }
    if (check_determinism) {
      // Split rows (as threads do) and a shifted scratch: bit-identical.
      const size_t rows = g.n * g.oh, mid = rows / 2 + (rows > 2 ? 1 : 0);
      float* y2p = y2.get() + (off + 1) % pad;
      float* sp2 = scratch.get() + (off + 3) % pad;
      forward(xp, wp, with_bias ? bp : nullptr, act, a.acc, y2p, sp2, 0, mid);
      forward(xp, wp, with_bias ? bp : nullptr, act, a.acc, y2p, sp2, mid,
              rows);
      if (memcmp(yp, y2p, ny * sizeof(float)) != 0) {
        report("forward not deterministic", 0, 0, 0, 0);
      }
    }
  }

  // ---- Weight gradient, accumulating onto dw0 / db0, with and without db.
  for (bool with_db : {true, false}) {
    std::vector<double> dw_ref = dw0, db_ref = db0, dw_abs(O * kk, 0.0),
                        db_abs(O, 0.0), dw_im2col;
    Conv1ChBackwardWeightsScalar<double>(g, xd.data(), dyd.data(), O,
                                         dw_ref.data(), db_ref.data());
    const std::vector<double> xa = Abs(xd), dya = Abs(dyd);
    Conv1ChBackwardWeightsScalar<double>(g, xa.data(), dya.data(), O,
                                         dw_abs.data(), db_abs.data());
    WeightGradIm2Col(g, xd, dyd, O, &dw_im2col);
    for (size_t i = 0; i < O * kk; ++i) {
      const double a = dw_ref[i] - dw0[i];
      if (!(std::abs(a - dw_im2col[i]) <= 1e-12 * (1.0 + dw_abs[i]))) {
        report("reference dw vs im2col", i, a, dw_im2col[i], 1e-12);
      }
    }
    memcpy(dwp, ToFloatCopy(dw0).data(), O * kk * sizeof(float));
    memcpy(dbp, ToFloatCopy(db0).data(), O * sizeof(float));
    dwp[O * kk] = 777.0f;
    dbp[O] = 777.0f;
    backward(xp, dyp, dwp, with_db ? dbp : nullptr, sp);
    if (dwp[O * kk] != 777.0f || dbp[O] != 777.0f) {
      report("backward sentinel", 0, dwp[O * kk], 777, 0);
    }
    const double nv = std::ceil(static_cast<double>(g.ow) / lanes);
    const double depth = static_cast<double>(g.oh) * nv +
                         static_cast<double>(g.n * g.oh) +
                         std::log2(static_cast<double>(lanes)) + 4.0;
    for (size_t i = 0; i < O * kk; ++i) {
      const double tol =
          2.0 * depth * u * (dw_abs[i] + std::abs(dw0[i])) + 1e-37;
      const double err = std::abs(static_cast<double>(dwp[i]) - dw_ref[i]);
      if (!(err <= tol)) report("dw", i, dwp[i], dw_ref[i], tol);
    }
    for (size_t o = 0; o < O; ++o) {
      const double ref = with_db ? db_ref[o] : db0[o];
      const double tol = 2.0 * depth * u * (db_abs[o] + std::abs(db0[o]));
      const double err = std::abs(static_cast<double>(dbp[o]) - ref);
      if (!(err <= tol)) report("db", o, dbp[o], ref, tol);
    }
    if (check_determinism && with_db) {
      std::vector<float> first(dwp, dwp + O * kk);
      memcpy(dwp, ToFloatCopy(dw0).data(), O * kk * sizeof(float));
      backward(xp, dyp, dwp, nullptr, scratch.get() + (off + 5) % pad);
      if (memcmp(first.data(), dwp, O * kk * sizeof(float)) != 0) {
        report("backward not deterministic", 0, 0, 0, 0);
      }
    }
  }
  return errors;
}

}  // namespace conv1ch_test
}  // namespace sparrow
#endif  // SPARROW_KERNELS_CONV1CH_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace sparrow {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

size_t RunShape(const conv1ch_test::Shape& s, size_t off,
                conv1ch_test::Act act, bool check_determinism) {
  const hn::CappedTag<float, 16> df;
  ConvGeometry g;
  if (!conv1ch_test::MakeGeometry(s, &g)) return 0;
  return conv1ch_test::CheckShape(
      s, hn::Lanes(df), off, act, check_determinism,
      [&](const float* x, const float* w, const float* b, Activation a,
          Accuracy acc, float* y, float* scratch, size_t r0, size_t r1) {
        Conv1ChForwardImpl(g, x, w, b, s.O, a, acc, y, scratch, r0, r1);
      },
      [&](const float* x, const float* dy, float* dw, float* db,
          float* scratch) {
        Conv1ChBackwardWeightsImpl(g, x, dy, s.O, dw, db, scratch);
      });
}

// Image sizes around every target's vector length, random filters, pads,
// channel counts and batch sizes for each (fixed seed).
HWY_NOINLINE void TestAllImageSizes() {
  const hn::CappedTag<float, 16> df;
  const size_t N = hn::Lanes(df);
  const size_t sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 28, 33};
  const size_t channels[] = {1, 3, 6, 8, 16, 17};
  const size_t offsets[] = {0, 1, N / 2};
  std::mt19937 rng(42);
  size_t case_index = 0;
  for (size_t h : sizes) {
    for (size_t w : sizes) {
      for (int rep = 0; rep < 4; ++rep) {
        conv1ch_test::Shape s;
        ConvGeometry g;
        do {  // a filter that fits the padded image
          s.n = (rng() % 2) ? 3 : 1;
          s.h = h;
          s.w = w;
          s.kh = 1 + rng() % 7;
          s.kw = 1 + rng() % 7;
          s.pad_top = rng() % 4;
          s.pad_bottom = rng() % 4;
          s.pad_left = rng() % 4;
          s.pad_right = rng() % 4;
          s.O = channels[rng() % 6];
        } while (!conv1ch_test::MakeGeometry(s, &g));
        const conv1ch_test::Act act = conv1ch_test::kActivations[case_index % 6];
        const size_t off = offsets[case_index % 3];
        const size_t errors = RunShape(s, off, act, case_index % 5 == 0);
        ++case_index;
        ASSERT_EQ(0u, errors);
      }
    }
  }
}

// Every filter size 1..7 x 1..7 with every channel count, "same" and
// asymmetric padding, plus LeNet-5's first layer.
HWY_NOINLINE void TestAllFilters() {
  const hn::CappedTag<float, 16> df;
  const size_t N = hn::Lanes(df);
  for (size_t kh = 1; kh <= 7; ++kh) {
    for (size_t kw = 1; kw <= 7; ++kw) {
      for (size_t O : {1, 3, 6, 8, 16, 17}) {
        const int64_t pt = static_cast<int64_t>(kh / 2);
        const int64_t pl = static_cast<int64_t>((kw - 1) / 2);
        const conv1ch_test::Shape same = {1, 9, 2 * N + 1, kh, kw, pt,
                                          static_cast<int64_t>(kh) - 1 - pt,
                                          pl, static_cast<int64_t>(kw) - 1 - pl,
                                          O};
        ASSERT_EQ(0u, RunShape(same, O % 2, conv1ch_test::kActivations[1],
                               O == 6));
        const conv1ch_test::Shape asym = {3, 8, N + 1, kh, kw, 3, 0, 0, 2, O};
        ASSERT_EQ(0u, RunShape(asym, N / 2, conv1ch_test::kActivations[0],
                               false));
      }
    }
  }
  const conv1ch_test::Shape lenet = {3, 28, 28, 5, 5, 2, 2, 2, 2, 6};
  ASSERT_EQ(0u, RunShape(lenet, 1, conv1ch_test::kActivations[1], true));
  // No padding at all, and padding wider than the filter needs.
  const conv1ch_test::Shape valid = {2, 28, 28, 5, 5, 0, 0, 0, 0, 16};
  ASSERT_EQ(0u, RunShape(valid, 0, conv1ch_test::kActivations[5], true));
  const conv1ch_test::Shape wide = {1, 5, 6, 2, 3, 3, 3, 3, 3, 4};
  ASSERT_EQ(0u, RunShape(wide, 1, conv1ch_test::kActivations[2], true));
  for (const conv1ch_test::Act& act : conv1ch_test::kActivations) {
    const conv1ch_test::Shape s = {1, 17, 2 * N + 3, 3, 3, 1, 1, 1, 1, 8};
    ASSERT_EQ(0u, RunShape(s, 1, act, false));
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace sparrow
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparrow {
HWY_BEFORE_TEST(Conv1ChTest);
HWY_EXPORT_AND_TEST_P(Conv1ChTest, TestAllImageSizes);
HWY_EXPORT_AND_TEST_P(Conv1ChTest, TestAllFilters);
HWY_AFTER_TEST();

// ------------------------------ Public API (dispatched)

TEST(Conv1ChApiTest, Applies) {
  ConvGeometry g;
  g.c = 1;
  g.kh = g.kw = 5;
  EXPECT_TRUE(Conv1ChApplies(g));
  g.pad_top = 2;
  EXPECT_TRUE(Conv1ChApplies(g));
  ConvGeometry c3 = g;
  c3.c = 3;
  EXPECT_FALSE(Conv1ChApplies(c3));
  ConvGeometry strided = g;
  strided.stride_w = 2;
  EXPECT_FALSE(Conv1ChApplies(strided));
  ConvGeometry dilated = g;
  dilated.dilation_h = 2;
  EXPECT_FALSE(Conv1ChApplies(dilated));
}

TEST(Conv1ChApiTest, LeNetConv1MatchesReference) {
  const conv1ch_test::Shape s = {4, 28, 28, 5, 5, 2, 2, 2, 2, 6};
  ConvGeometry g;
  ASSERT_TRUE(conv1ch_test::MakeGeometry(s, &g));
  const size_t errors = conv1ch_test::CheckShape(
      s, 16, 1, conv1ch_test::kActivations[1], true,
      [&](const float* x, const float* w, const float* b, Activation a,
          Accuracy acc, float* y, float* scratch, size_t r0, size_t r1) {
        Conv1ChForwardRows(g, x, w, b, s.O, a, acc, y, scratch, r0, r1);
      },
      [&](const float* x, const float* dy, float* dw, float* db,
          float* scratch) {
        Conv1ChBackwardWeights(g, x, dy, s.O, dw, db, scratch);
      });
  EXPECT_EQ(0u, errors);
}

TEST(Conv1ChApiTest, EmptyShapesWriteNothing) {
  ConvGeometry g;
  g.n = 0;
  g.h = g.w = 4;
  g.kh = g.kw = 3;
  g.oh = g.ow = 2;
  std::vector<float> scratch(Conv1ChScratchFloats(g));
  float dw[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, db[1] = {2};
  Conv1ChBackwardWeights(g, nullptr, nullptr, 1, dw, db, scratch.data());
  EXPECT_EQ(1.0f, dw[4]);
  EXPECT_EQ(2.0f, db[0]);
  float y[1] = {5.0f};
  Conv1ChForward(g, nullptr, dw, db, 1, Activation::kIdentity,
                 Accuracy::kPrecise, y, scratch.data());
  EXPECT_EQ(5.0f, y[0]);
}

TEST(Conv1ChApiTest, NanPropagatesToItsOutputsOnly) {
  ConvGeometry g;
  g.n = 1;
  g.h = g.w = 12;
  g.kh = g.kw = 3;
  g.oh = g.ow = 12;
  g.pad_top = g.pad_left = 1;
  std::vector<float> x(144, 0.5f), w(2 * 9, 0.25f), y(144 * 2);
  std::vector<float> scratch(Conv1ChScratchFloats(g));
  x[5 * 12 + 7] = std::nanf("");
  Conv1ChForward(g, x.data(), w.data(), nullptr, 2, Activation::kIdentity,
                 Accuracy::kPrecise, y.data(), scratch.data());
  for (size_t oy = 0; oy < 12; ++oy) {
    for (size_t ox = 0; ox < 12; ++ox) {
      const bool touched = oy + 1 >= 5 && oy <= 6 && ox + 1 >= 7 && ox <= 8;
      EXPECT_EQ(touched, std::isnan(y[(oy * 12 + ox) * 2 + 1])) << oy << ox;
    }
  }
}

}  // namespace sparrow
#endif  // HWY_ONCE
