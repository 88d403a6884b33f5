#include "trainer/data/augment.h"

#include <string.h>

#include <cmath>

#include "trainer/data/echo.h"  // SplitMix64, StreamSeed

namespace sparrow {
namespace data {

AugmentDraw DrawAugment(const AugmentOptions& options, uint64_t seed,
                        int64_t epoch, uint64_t index, uint32_t copy) {
  SplitMix64 rng(StreamSeed(seed, kAugmentStream,
                            static_cast<uint64_t>(epoch), index, copy));
  AugmentDraw d;
  const uint64_t span = 2 * static_cast<uint64_t>(options.pad) + 1;
  d.dy = static_cast<int>(rng.Below(span));
  d.dx = static_cast<int>(rng.Below(span));
  d.flip = options.flip && (rng.Next() >> 63) != 0;
  d.noise_seed = rng.Next();
  return d;
}

namespace {

// The fused crop and flip: out[y][x] = in[y + dy - pad][x' + dx - pad] with
// x' = w - 1 - x when flipping (the flip of the crop), 0 outside the image.
void CropFlip(const float* in, int h, int w, int c, int pad, int dy, int dx,
              bool flip, float* out) {
  const size_t row = static_cast<size_t>(w) * c;
  for (int y = 0; y < h; ++y) {
    float* dst = out + y * row;
    const int sy = y + dy - pad;
    if (sy < 0 || sy >= h) {
      memset(dst, 0, row * sizeof(float));
      continue;
    }
    const float* src = in + sy * row;
    if (!flip && dx == pad) {
      memcpy(dst, src, row * sizeof(float));
      continue;
    }
    for (int x = 0; x < w; ++x) {
      const int sx = (flip ? w - 1 - x : x) + dx - pad;
      float* d = dst + static_cast<size_t>(x) * c;
      if (sx < 0 || sx >= w) {
        for (int k = 0; k < c; ++k) d[k] = 0.0f;
      } else {
        const float* s = src + static_cast<size_t>(sx) * c;
        for (int k = 0; k < c; ++k) d[k] = s[k];
      }
    }
  }
}

}  // namespace

void CropWithPadding(const float* in, int h, int w, int c, int pad, int dy,
                     int dx, float* out) {
  CropFlip(in, h, w, c, pad, dy, dx, /*flip=*/false, out);
}

void FlipHorizontal(float* image, int h, int w, int c) {
  for (int y = 0; y < h; ++y) {
    float* r = image + static_cast<size_t>(y) * w * c;
    for (int a = 0, b = w - 1; a < b; ++a, --b) {
      for (int k = 0; k < c; ++k) {
        const float t = r[a * c + k];
        r[a * c + k] = r[b * c + k];
        r[b * c + k] = t;
      }
    }
  }
}

void AddGaussianNoise(float* values, size_t n, float stddev, uint64_t seed) {
  if (stddev == 0.0f) return;
  SplitMix64 rng(seed);
  // Irwin-Hall: the sum of four 16-bit uniforms from one 64-bit draw has
  // mean 2 and variance 1/3, so (sum - 2) * sqrt(3) has mean 0 and variance
  // 1. No logarithm, no rejection loop (the polar method had both, per pair
  // of values): the augment stage stays cheaper than a training step.
  const float scale = stddev * 1.7320508f * 0x1.0p-16f;
  const float offset = 2.0f * 65536.0f;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t b = rng.Next();
    const float sum = static_cast<float>(b & 0xFFFF) +
                      static_cast<float>((b >> 16) & 0xFFFF) +
                      static_cast<float>((b >> 32) & 0xFFFF) +
                      static_cast<float>(b >> 48);
    values[i] += (sum + 2.0f - offset) * scale;  // +2: centre the 16-bit grid
  }
}

void Augment(const float* in, int h, int w, int c,
             const AugmentOptions& options, const AugmentDraw& draw,
             float* out) {
  const size_t n = static_cast<size_t>(h) * w * c;
  if (!options.enabled) {
    memcpy(out, in, n * sizeof(float));
    return;
  }
  CropFlip(in, h, w, c, options.pad, draw.dy, draw.dx, draw.flip, out);
  AddGaussianNoise(out, n, options.noise_stddev, draw.noise_seed);
}

void AugmentExample(const float* in, int h, int w, int c,
                    const AugmentOptions& options, uint64_t seed,
                    int64_t epoch, uint64_t index, uint32_t copy, float* out) {
  Augment(in, h, w, c, options, DrawAugment(options, seed, epoch, index, copy),
          out);
}

}  // namespace data
}  // namespace sparrow
