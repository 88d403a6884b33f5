// Per-example augmentation of an NHWC float image (pipeline.h): a random
// crop from the image zero-padded by `pad` on every side, a horizontal flip
// with probability 1/2, and Gaussian noise.
//
//   std::vector<float> out(h * w * c);
//   AugmentExample(in, h, w, c, options.augment, seed, epoch, index, copy,
//                  out.data());
//
// Contract: `in` and `out` hold h*w*c floats ([h, w, c]) and must not
// overlap. Nothing allocates. The result depends only on the arguments
// (seeded per (seed, epoch, index, copy)), never on threads or timing; the
// functions are thread-safe (no shared state).
#ifndef SPARROW_TRAINER_DATA_AUGMENT_H_
#define SPARROW_TRAINER_DATA_AUGMENT_H_

#include <stddef.h>
#include <stdint.h>

#include "trainer/data/pipeline.h"  // AugmentOptions

namespace sparrow {
namespace data {

// The random choices for one example.
struct AugmentDraw {
  int dy = 0, dx = 0;  // crop offset in the padded image, each in [0, 2*pad]
  bool flip = false;
  uint64_t noise_seed = 0;
};

// The draw for (seed, epoch, index, copy); dy = dx = pad (no shift) when
// pad is 0, flip false when options.flip is off.
AugmentDraw DrawAugment(const AugmentOptions& options, uint64_t seed,
                        int64_t epoch, uint64_t index, uint32_t copy);

// out[y][x] = in[y + dy - pad][x + dx - pad], 0 outside the image.
void CropWithPadding(const float* in, int h, int w, int c, int pad, int dy,
                     int dx, float* out);

// Mirrors the columns in place.
void FlipHorizontal(float* image, int h, int w, int c);

// Adds approximately N(0, stddev^2) noise to each of the n values: the
// Irwin-Hall sum of four uniforms, scaled to mean 0 and standard deviation
// stddev (bounded by +-sqrt(12) stddev, kurtosis 2.7 instead of 3).
void AddGaussianNoise(float* values, size_t n, float stddev, uint64_t seed);

// Crop, flip and noise per `draw`; a plain copy when !options.enabled.
void Augment(const float* in, int h, int w, int c,
             const AugmentOptions& options, const AugmentDraw& draw,
             float* out);

// Augment() with DrawAugment(options, seed, epoch, index, copy).
void AugmentExample(const float* in, int h, int w, int c,
                    const AugmentOptions& options, uint64_t seed,
                    int64_t epoch, uint64_t index, uint32_t copy, float* out);

}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_AUGMENT_H_
