// Tests only: small synthetic datasets whose pixels encode the example, and
// a consumer that collects every batch a pipeline delivers.
#ifndef SPARROW_TRAINER_DATA_PIPELINE_TEST_UTIL_H_
#define SPARROW_TRAINER_DATA_PIPELINE_TEST_UTIL_H_

#include <stddef.h>
#include <stdint.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/data/pipeline.h"

namespace sparrow {
namespace data {
namespace test_util {

// n examples of [h, w, c]: pixel p of example i is i * h*w*c + p (exact in
// float below 2^24), label i % 251.
struct TestData {
  explicit TestData(size_t n_, int h_ = 8, int w_ = 8, int c_ = 1)
      : n(n_), h(h_), w(w_), c(c_), images(n_ * h_ * w_ * c_), labels(n_) {
    for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>(i);
    for (size_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 251);
  }
  size_t example_size() const { return static_cast<size_t>(h) * w * c; }
  SourceData source() const {
    SourceData s;
    s.images = images.data();
    s.labels = labels.data();
    s.n = n;
    s.height = h;
    s.width = w;
    s.channels = c;
    return s;
  }

  size_t n;
  int h, w, c;
  std::vector<float> images;
  std::vector<uint8_t> labels;
};

struct Delivered {
  std::vector<Batch> batches;
  Status end;  // what ended the run (OUT_OF_RANGE normally)
  PipelineMetrics metrics;
};

// Consumes until Next() fails (or max_batches: a test bug). With `jitter`
// the consumer pauses irregularly, so the stages' timing varies.
inline Delivered Collect(const PipelineOptions& o, const TestData& d,
                   bool jitter = false, size_t max_batches = 100000) {
  Delivered run;
  StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Start(o, d.source());
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return run;
  Batch b;
  uint64_t state = 1;
  for (;;) {
    run.end = (*p)->Next(&b);
    if (!run.end.ok()) break;
    run.batches.push_back(b);
    if (run.batches.size() > max_batches) {
      ADD_FAILURE() << "more than " << max_batches << " batches";
      break;
    }
    if (jitter) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const int r = static_cast<int>(state >> 60);  // 0..15
      if (r < 4) std::this_thread::yield();
      if (r == 4) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  run.metrics = (*p)->metrics();
  return run;
}

}  // namespace test_util
}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_PIPELINE_TEST_UTIL_H_
