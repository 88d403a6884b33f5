// Gradient checks in double: every layer's and loss's backward against
// central finite differences of its forward, and the float path (SIMD
// kernels) against the double path.
#include <math.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/conv_layers.h"
#include "trainer/gru_layer.h"
#include "trainer/layers.h"
#include "trainer/loss.h"

namespace sparrow {
namespace train {
namespace {

using Vec = std::vector<double>;

Vec Random(size_t n, uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(lo, hi);
  Vec v(n);
  for (double& x : v) x = uni(rng);
  return v;
}

// A scalar loss L = forward() (e.g. sum of out * fixed weights) of the
// arrays in `wrt`; backward(grads) must add dL/d(wrt[i]) into grads[i].
// Checks every element (or 64 spread ones of large arrays) against central
// differences: |analytic - numeric| <= 1e-6 max(1, |numeric|). With
// eps = 1e-5 the truncation error is ~eps^2 |L'''| ~ 1e-10 and the rounding
// error ~1e-16 / eps ~ 1e-11, well inside the bound.
void CheckGradients(const std::string& what, std::vector<Vec*> wrt,
                    const std::function<double()>& forward,
                    const std::function<void(std::vector<Vec>&)>& backward) {
  std::vector<Vec> grads;
  for (Vec* v : wrt) grads.emplace_back(v->size(), 0.0);
  forward();  // backward reads what forward saved
  backward(grads);
  const double eps = 1e-5;
  for (size_t a = 0; a < wrt.size(); ++a) {
    Vec& v = *wrt[a];
    const size_t stride = v.size() > 64 ? v.size() / 64 : 1;
    for (size_t i = 0; i < v.size(); i += stride) {
      const double keep = v[i];
      v[i] = keep + eps;
      const double up = forward();
      v[i] = keep - eps;
      const double down = forward();
      v[i] = keep;
      const double numeric = (up - down) / (2 * eps);
      ASSERT_NEAR(grads[a][i], numeric, 1e-6 * std::max(1.0, fabs(numeric)))
          << what << ": input " << a << "[" << i << "]";
    }
  }
  forward();
}

double Dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(GradCheck, Linear) {
  const size_t B = 3, K = 5, N = 4;
  for (bool bias : {true, false}) {
    Vec x = Random(B * K, 1), w = Random(N * K, 2), b = Random(N, 3);
    const Vec proj = Random(B * N, 4);
    Vec y(B * N);
    CheckGradients(
        bias ? "linear+bias" : "linear", {&x, &w, &b},
        [&] {
          LinearForward(y.data(), x.data(), w.data(), bias ? b.data() : nullptr,
                        B, K, N);
          return Dot(y, proj);
        },
        [&](std::vector<Vec>& g) {
          LinearBackward(g[0].data(), g[1].data(), bias ? g[2].data() : nullptr,
                         proj.data(), x.data(), w.data(), B, K, N);
        });
  }
}

TEST(GradCheck, Activations) {
  for (Activation act : {Activation::kRelu, Activation::kTanh,
                         Activation::kSigmoid, Activation::kGelu}) {
    Vec x = Random(40, 5, -3.0, 3.0);
    const Vec proj = Random(40, 6);
    Vec y(40);
    CheckGradients(
        ActivationName(act), {&x},
        [&] {
          ActivationForward(act, y.data(), x.data(), x.size());
          return Dot(y, proj);
        },
        [&](std::vector<Vec>& g) {
          ActivationBackward(act, g[0].data(), proj.data(), x.data(), y.data(),
                             x.size());
        });
  }
}

TEST(GradCheck, DropoutAndEmbedding) {
  Vec x = Random(50, 7);
  const Vec proj = Random(50, 8);
  Vec y(50);
  CheckGradients(
      "dropout", {&x},
      [&] {
        DropoutForward(y.data(), x.data(), x.size(), 0.3f, 42);
        return Dot(y, proj);
      },
      [&](std::vector<Vec>& g) {
        DropoutBackward(g[0].data(), proj.data(), x.size(), 0.3f, 42);
      });
  size_t kept = 0;
  for (size_t i = 0; i < 10000; ++i) kept += DropoutKeep(9, i, 0.3f);
  EXPECT_NEAR(kept / 10000.0, 0.7, 0.02);

  const size_t V = 6, D = 3;
  const std::vector<int32_t> idx = {4, 0, 4, 5};
  Vec table = Random(V * D, 9);
  const Vec p2 = Random(idx.size() * D, 10);
  Vec e(idx.size() * D);
  CheckGradients(
      "embedding", {&table},
      [&] {
        EmbeddingForward(e.data(), idx.data(), table.data(), idx.size(), D);
        return Dot(e, p2);
      },
      [&](std::vector<Vec>& g) {
        EmbeddingBackward(g[0].data(), p2.data(), idx.data(), idx.size(), D);
      });
}

ConvGeometry Geometry(size_t n, size_t h, size_t w, size_t c, size_t kh,
                      size_t kw, int64_t s, int64_t d, int64_t pad) {
  ConvGeometry g;
  g.n = n, g.h = h, g.w = w, g.c = c, g.kh = kh, g.kw = kw;
  g.stride_h = g.stride_w = s;
  g.dilation_h = g.dilation_w = d;
  g.pad_top = g.pad_left = pad;
  g.oh = (h + 2 * pad - (d * (kh - 1) + 1)) / s + 1;
  g.ow = (w + 2 * pad - (d * (kw - 1) + 1)) / s + 1;
  return g;
}

TEST(GradCheck, Conv2D) {
  for (const ConvGeometry& g :
       {Geometry(2, 5, 5, 2, 3, 3, 1, 1, 1), Geometry(1, 7, 6, 3, 3, 2, 2, 2, 2),
        Geometry(2, 3, 4, 3, 1, 1, 1, 1, 0),
        // 2 x 64 x 64 patch rows of 27: several chunks (ConvChunkRows).
        Geometry(2, 64, 64, 3, 3, 3, 1, 1, 1)}) {
    const size_t O = 3;
    Vec x = Random(g.n * g.h * g.w * g.c, 11), w = Random(O * g.PatchCols(), 12);
    Vec b = Random(O, 13);
    const Vec proj = Random(g.PatchRows() * O, 14);
    Vec y(g.PatchRows() * O), scratch(ConvScratchFloats(g));
    CheckGradients(
        "conv2d", {&x, &w, &b},
        [&] {
          Conv2DForward(y.data(), x.data(), w.data(), b.data(), g, O, scratch.data());
          return Dot(y, proj);
        },
        [&](std::vector<Vec>& gr) {
          Conv2DBackward(gr[0].data(), gr[1].data(), gr[2].data(), proj.data(),
                         x.data(), w.data(), g, O, scratch.data());
        });
  }
}

TEST(GradCheck, Pools) {
  PoolGeometry p;
  p.n = 2, p.h = 6, p.w = 5, p.c = 3, p.kh = 3, p.kw = 2;
  p.stride_h = 2, p.stride_w = 2, p.pad_top = 1, p.pad_left = 1;
  p.oh = (6 + 2 - 3) / 2 + 1;
  p.ow = (5 + 2 - 2) / 2 + 1;
  Vec x = Random(p.n * p.h * p.w * p.c, 15);
  const Vec proj = Random(p.OutputSize(), 16);
  Vec y(p.OutputSize());
  std::vector<int32_t> arg(p.OutputSize());
  CheckGradients(
      "maxpool", {&x},
      [&] {
        MaxPool2DForward(y.data(), arg.data(), x.data(), p);
        return Dot(y, proj);
      },
      [&](std::vector<Vec>& g) {
        MaxPool2DBackward(g[0].data(), proj.data(), arg.data(), p);
      });
  for (bool include : {false, true}) {
    p.count_include_pad = include;
    CheckGradients(
        "avgpool", {&x},
        [&] {
          AvgPool2DForward(y.data(), x.data(), p);
          return Dot(y, proj);
        },
        [&](std::vector<Vec>& g) {
          AvgPool2DBackward(g[0].data(), proj.data(), p);
        });
  }
}

TEST(GradCheck, GruThroughTime) {
  const size_t B = 2, Tn = 4, I = 3, H = 5;
  for (bool with_h0 : {false, true}) {
    for (bool bias : {true, false}) {
      Vec x = Random(B * Tn * I, 17), h0 = Random(B * H, 18);
      Vec wi = Random(3 * H * I, 19), wh = Random(3 * H * H, 20);
      Vec bi = Random(3 * H, 21), bh = Random(3 * H, 22);
      const Vec proj = Random(B * Tn * H, 23);
      Vec y(B * Tn * H);
      GruCache<double> cache(B, Tn, H);
      auto weights = [&] {
        return GruWeightsT<double>{wi.data(), wh.data(),
                                   bias ? bi.data() : nullptr,
                                   bias ? bh.data() : nullptr};
      };
      CheckGradients(
          std::string("gru") + (with_h0 ? " h0" : "") + (bias ? " bias" : ""),
          {&x, &h0, &wi, &wh, &bi, &bh},
          [&] {
            GruForward(y.data(), &cache, x.data(), with_h0 ? h0.data() : nullptr,
                       weights(), B, Tn, I, H);
            return Dot(y, proj);
          },
          [&](std::vector<Vec>& g) {
            const GruGradsT<double> grads = {g[2].data(), g[3].data(),
                                             bias ? g[4].data() : nullptr,
                                             bias ? g[5].data() : nullptr};
            GruBackward(g[0].data(), with_h0 ? g[1].data() : nullptr, grads,
                        proj.data(), &cache, x.data(),
                        with_h0 ? h0.data() : nullptr, y.data(), weights(), B,
                        Tn, I, H);
          });
    }
  }
}

TEST(GradCheck, Losses) {
  const size_t B = 3, C = 5;
  const std::vector<int32_t> labels = {2, 0, 4};
  Vec logits = Random(B * C, 24, -2, 2), probs(B * C);
  CheckGradients(
      "softmax cross-entropy", {&logits},
      [&] {
        return SoftmaxCrossEntropyForward(probs.data(), logits.data(),
                                          labels.data(), B, C);
      },
      [&](std::vector<Vec>& g) {
        SoftmaxCrossEntropyBackward(g[0].data(), probs.data(), labels.data(), B, C);
      });
  Vec pred = Random(12, 25);
  const Vec target = Random(12, 26);
  CheckGradients(
      "mse", {&pred}, [&] { return MseForward(pred.data(), target.data(), 12); },
      [&](std::vector<Vec>& g) {
        MseBackward(g[0].data(), pred.data(), target.data(), 12);
      });
  const Vec teacher = Random(B * C, 27, -3, 3);
  Vec ps(B * C), pt(B * C);
  for (double tau : {1.0, 4.0}) {
    CheckGradients(
        "distillation", {&logits},
        [&] {
          return DistillationForward(ps.data(), pt.data(), logits.data(),
                                     teacher.data(), B, C, tau);
        },
        [&](std::vector<Vec>& g) {
          DistillationBackward(g[0].data(), ps.data(), pt.data(), B, C, tau);
        });
  }
  // KL of a distribution with itself is zero; cross-entropy matches -log p.
  EXPECT_NEAR(DistillationForward(ps.data(), pt.data(), teacher.data(),
                                  teacher.data(), B, C, 2.0),
              0.0, 1e-12);
  const double ce = SoftmaxCrossEntropyForward(probs.data(), logits.data(),
                                               labels.data(), B, C);
  double want = 0;
  for (size_t b = 0; b < B; ++b) want -= log(probs[b * C + labels[b]]);
  EXPECT_NEAR(ce, want / B, 1e-12);
}

// The float path runs the SIMD kernels; it must agree with the double path.
TEST(FloatPath, MatchesDouble) {
  const size_t B = 7, K = 33, N = 19;
  const Vec xd = Random(B * K, 30), wd = Random(N * K, 31), bd = Random(N, 32);
  const std::vector<float> xf(xd.begin(), xd.end()), wf(wd.begin(), wd.end()),
      bf(bd.begin(), bd.end());
  Vec yd(B * N);
  std::vector<float> yf(B * N);
  LinearForward(yd.data(), xd.data(), wd.data(), bd.data(), B, K, N);
  LinearForward(yf.data(), xf.data(), wf.data(), bf.data(), B, K, N);
  for (size_t i = 0; i < yd.size(); ++i) EXPECT_NEAR(yf[i], yd[i], 1e-5);
  Vec dwd(N * K, 0.0), dxd(B * K, 0.0);
  std::vector<float> dwf(N * K, 0.0f), dxf(B * K, 0.0f);
  const std::vector<float> dyf(yf.begin(), yf.end());
  const Vec dyd(dyf.begin(), dyf.end());
  LinearBackward(dxd.data(), dwd.data(), static_cast<double*>(nullptr),
                 dyd.data(), xd.data(), wd.data(), B, K, N);
  LinearBackward(dxf.data(), dwf.data(), static_cast<float*>(nullptr),
                 dyf.data(), xf.data(), wf.data(), B, K, N);
  for (size_t i = 0; i < dwd.size(); ++i) EXPECT_NEAR(dwf[i], dwd[i], 1e-4);
  for (size_t i = 0; i < dxd.size(); ++i) EXPECT_NEAR(dxf[i], dxd[i], 1e-4);
  std::vector<float> af(40), yaf(40);
  Vec ad = Random(40, 33, -3, 3), yad(40);
  for (size_t i = 0; i < 40; ++i) af[i] = static_cast<float>(ad[i]);
  for (Activation act : {Activation::kTanh, Activation::kGelu}) {
    ActivationForward(act, yaf.data(), af.data(), 40);
    ActivationForward(act, yad.data(), ad.data(), 40);
    for (size_t i = 0; i < 40; ++i) EXPECT_NEAR(yaf[i], yad[i], 1e-6);
  }
}

// LeNet-5's first layer (C = 1) takes the direct kernel (kernels/conv1ch.h)
// in float: forward, and the weight gradient when dx is not wanted. It must
// agree with the im2col + GEMM path (Im2Col + LinearBias, and
// Conv2DBackward with dx, which keeps that path) within f32 summation-order
// differences: 1e-5 of the sum of |terms| of each output.
TEST(FloatPath, SingleChannelConvMatchesIm2Col) {
  ConvGeometry g;
  g.n = 8;
  g.h = g.w = 28;
  g.c = 1;
  g.kh = g.kw = 5;
  g.oh = g.ow = 28;
  g.pad_top = g.pad_left = 2;
  ASSERT_TRUE(Conv1ChApplies(g));
  const size_t O = 6, M = g.PatchRows(), K = g.PatchCols();
  const Vec xd = Random(g.n * g.h * g.w, 40, 0.0, 1.0), wd = Random(O * K, 41),
            bd = Random(O, 42), dyd = Random(M * O, 43), dw0 = Random(O * K, 44),
            db0 = Random(O, 45);
  auto to_float = [](const Vec& v) { return std::vector<float>(v.begin(), v.end()); };
  const std::vector<float> x = to_float(xd), w = to_float(wd), b = to_float(bd),
                           dy = to_float(dyd);
  Vec xa(xd.size()), wa(wd.size()), ba(bd.size()), dya(dyd.size());
  for (size_t i = 0; i < xd.size(); ++i) xa[i] = std::abs(xd[i]);
  for (size_t i = 0; i < wd.size(); ++i) wa[i] = std::abs(wd[i]);
  for (size_t i = 0; i < bd.size(); ++i) ba[i] = std::abs(bd[i]);
  for (size_t i = 0; i < dyd.size(); ++i) dya[i] = std::abs(dyd[i]);

  // Forward: the fast path against Im2Col + the GEMM.
  std::vector<float> scratch(ConvScratchFloats(g)), y(M * O), y_ref(M * O),
      cols(M * K);
  Conv2DForward(y.data(), x.data(), w.data(), b.data(), g, O, scratch.data());
  Im2Col(g, x.data(), 0, M, cols.data());
  LinearBias<float>(M, O, K, cols.data(), K, w.data(), b.data(),
                    Activation::kIdentity, y_ref.data(), O);
  Vec abs_sum(M * O), scratch_d(ConvScratchFloats(g));
  Conv2DForward(abs_sum.data(), xa.data(), wa.data(), ba.data(), g, O,
                scratch_d.data());
  for (size_t i = 0; i < M * O; ++i) {
    ASSERT_NEAR(y[i], y_ref[i], 1e-5 * abs_sum[i]) << i;
  }

  // Weight gradient onto nonzero dw0, db0: dx == nullptr (fast) against the
  // im2col path that also computes dx.
  std::vector<float> dw = to_float(dw0), db = to_float(db0), dw_ref = dw,
                     db_ref = db, dx(x.size(), 0.0f);
  Conv2DBackward(static_cast<float*>(nullptr), dw.data(), db.data(), dy.data(),
                 x.data(), w.data(), g, O, scratch.data());
  Conv2DBackward(dx.data(), dw_ref.data(), db_ref.data(), dy.data(), x.data(),
                 w.data(), g, O, scratch.data());
  Vec dw_abs(O * K, 0.0), db_abs(O, 0.0);
  Conv2DBackward(static_cast<double*>(nullptr), dw_abs.data(), db_abs.data(),
                 dya.data(), xa.data(), wd.data(), g, O, scratch_d.data());
  for (size_t i = 0; i < O * K; ++i) {
    ASSERT_NEAR(dw[i], dw_ref[i], 1e-5 * (dw_abs[i] + std::abs(dw0[i]))) << i;
  }
  for (size_t o = 0; o < O; ++o) {
    ASSERT_NEAR(db[o], db_ref[o], 1e-5 * (db_abs[o] + std::abs(db0[o]))) << o;
  }
  // And the weight gradient moved: the fast path did add the sums.
  double moved = 0.0;
  for (size_t i = 0; i < O * K; ++i) moved += std::abs(dw[i] - dw0[i]);
  EXPECT_GT(moved, 1.0);
}

}  // namespace
}  // namespace train
}  // namespace sparrow
