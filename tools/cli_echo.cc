// The echo flags and the pipeline feed (tools/cli_echo.h).
#include "tools/cli_echo.h"

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sparrow {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The whole of `text` as a finite double.
bool ParseReal(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*value);
}

}  // namespace

StatusOr<EchoSetting> ParseEcho(const std::string& text) {
  EchoSetting s;
  if (text == "auto") {
    s.automatic = true;
    return s;
  }
  if (!ParseReal(text, &s.factor) || s.factor < 1.0 || s.factor > kMaxEcho) {
    return InvalidArgument("--echo '%s': want a real in [1, %g] or 'auto'",
                           text.c_str(), kMaxEcho);
  }
  return s;
}

StatusOr<data::AugmentOptions> ParseAugment(const std::string& text) {
  data::AugmentOptions a;
  if (text == "on") return a;
  if (text == "off") {
    a.enabled = false;
    return a;
  }
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(begin, end - begin);
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    double v = 0.0;
    const bool number =
        eq != std::string::npos && ParseReal(item.substr(eq + 1), &v);
    if (key == "pad" && number && v >= 0 && v <= 8 && v == std::floor(v)) {
      a.pad = static_cast<int>(v);
    } else if (key == "flip" && number && (v == 0 || v == 1)) {
      a.flip = v == 1;
    } else if (key == "noise" && number && v >= 0 && v <= 1) {
      a.noise_stddev = static_cast<float>(v);
    } else {
      return InvalidArgument(
          "--augment '%s': bad item '%s'; want on, off, or a comma list of "
          "pad=0..8, flip=0|1, noise=0..1",
          text.c_str(), item.c_str());
    }
    begin = end + 1;
  }
  return a;
}

StatusOr<data::CostMode> ParseCostMode(const std::string& text) {
  if (text == "sleep") return data::CostMode::kSleep;
  if (text == "spin") return data::CostMode::kSpin;
  return InvalidArgument("--cost_mode '%s': want sleep or spin", text.c_str());
}

StatusOr<data::PipelineOptions> MakePipelineOptions(const EchoFlags& f,
                                                    size_t batch,
                                                    uint64_t seed) {
  data::PipelineOptions o;
  o.batch = batch;
  o.seed = seed;
  StatusOr<EchoSetting> echo = ParseEcho(f.echo);
  SPARROW_RETURN_IF_ERROR(echo.status());
  o.echo_auto = echo->automatic;
  o.echo = echo->automatic ? 1.0 : echo->factor;
  if (!(f.echo_max >= 1.0 && f.echo_max <= kMaxEcho)) {
    return InvalidArgument("--echo_max %g: want a real in [1, %g]", f.echo_max,
                           kMaxEcho);
  }
  o.echo_max = f.echo_max;
  StatusOr<data::EchoPlacement> place = data::ParseEchoPlacement(f.place);
  if (!place.ok()) {
    return InvalidArgument(
        "--echo_place '%s': want before_augment, after_augment or batch",
        f.place.c_str());
  }
  o.placement = *place;
  o.shuffle_buffer = o.placement == data::EchoPlacement::kAfterBatch
                         ? f.shuffle_buffer / batch
                         : f.shuffle_buffer;
  StatusOr<data::AugmentOptions> augment = ParseAugment(f.augment);
  SPARROW_RETURN_IF_ERROR(augment.status());
  o.augment = *augment;
  if (!(f.upstream_cost_us >= 0.0 && f.upstream_cost_us <= 1e7)) {
    return InvalidArgument("--upstream_cost_us %g: want 0..1e7 microseconds",
                           f.upstream_cost_us);
  }
  o.upstream_cost_us = f.upstream_cost_us;
  StatusOr<data::CostMode> mode = ParseCostMode(f.cost_mode);
  SPARROW_RETURN_IF_ERROR(mode.status());
  o.cost_mode = *mode;
  return o;
}

std::string DescribePipeline(const data::PipelineOptions& o) {
  char buf[400];
  std::string echo;
  if (o.echo_auto) {
    snprintf(buf, sizeof(buf), "auto (at most %g)", o.echo_max);
  } else {
    snprintf(buf, sizeof(buf), "%g", o.echo);
  }
  echo = buf;
  const bool batches = o.placement == data::EchoPlacement::kAfterBatch;
  std::string augment = "off";
  if (o.augment.enabled) {
    snprintf(buf, sizeof(buf), "pad=%d,flip=%d,noise=%g", o.augment.pad,
             o.augment.flip ? 1 : 0, o.augment.noise_stddev);
    augment = buf;
  }
  std::string cost = "none";
  if (o.upstream_cost_us > 0) {
    snprintf(buf, sizeof(buf), "%g us/example (SIMULATED, %s)",
             o.upstream_cost_us,
             o.cost_mode == data::CostMode::kSleep ? "sleep" : "spin");
    cost = buf;
  }
  snprintf(buf, sizeof(buf),
           "echo %s %s, shuffle buffer %zu %s, augment %s, upstream cost %s",
           echo.c_str(), data::EchoPlacementName(o.placement), o.shuffle_buffer,
           batches ? "batches" : "examples", augment.c_str(), cost.c_str());
  return buf;
}

data::SourceData MnistSource(const float* images, const uint8_t* labels,
                             size_t n) {
  data::SourceData d;
  d.images = images;
  d.labels = labels;
  d.n = n;
  d.height = 28;
  d.width = 28;
  d.channels = 1;
  return d;
}

FeedTotals FeedTotals::Minus(const FeedTotals& e) const {
  FeedTotals d;
  d.consumed = consumed - e.consumed;
  d.fresh = fresh - e.fresh;
  d.duplicates = duplicates - e.duplicates;
  d.steps = steps - e.steps;
  d.correct = correct - e.correct;
  d.loss_sum = loss_sum - e.loss_sum;
  d.seconds = seconds - e.seconds;
  d.wait_seconds = wait_seconds - e.wait_seconds;
  return d;
}

PipelineFeed::PipelineFeed(train::Trainer* trainer, data::Pipeline* pipeline,
                           size_t n)
    : trainer_(trainer), pipeline_(pipeline), n_(n), seen_(n, 0) {}

Status PipelineFeed::Step() {
  const Clock::time_point t0 = Clock::now();
  Status s = pipeline_->Next(&batch_);
  const Clock::time_point t1 = Clock::now();
  totals_.wait_seconds += SecondsBetween(t0, t1);
  totals_.seconds += SecondsBetween(t0, t1);
  SPARROW_RETURN_IF_ERROR(s);
  const size_t count = batch_.size();
  StatusOr<train::BatchStats> b =
      trainer_->TrainBatch(batch_.images.data(), batch_.labels.data(), count);
  totals_.seconds += SecondsBetween(t1, Clock::now());
  SPARROW_RETURN_IF_ERROR(b.status());
  last_ = *b;
  totals_.consumed += count;
  totals_.steps += 1;
  totals_.correct += b->correct;
  totals_.loss_sum += b->loss * count;
  // Batches never mix epochs (pipeline.h), so one bitmap per epoch counts
  // the distinct fresh examples.
  if (batch_.epoch != seen_epoch_) {
    std::fill(seen_.begin(), seen_.end(), 0);
    seen_epoch_ = batch_.epoch;
  }
  for (uint64_t id : batch_.ids) {
    uint8_t& seen = seen_[id % n_];
    totals_.fresh += seen == 0;
    seen = 1;
  }
  sorted_ids_.assign(batch_.ids.begin(), batch_.ids.end());
  std::sort(sorted_ids_.begin(), sorted_ids_.end());
  for (size_t i = 1; i < sorted_ids_.size(); ++i) {
    totals_.duplicates += sorted_ids_[i] == sorted_ids_[i - 1];
  }
  return OkStatus();
}

void PrintFeedProgress(FILE* out, int64_t epoch, const FeedTotals& t, size_t n,
                       double echo_in_effect) {
  if (out == nullptr) return;
  const int width = 12;
  const size_t done = std::min<size_t>(t.fresh, n);
  const int filled = n ? static_cast<int>(width * done / n) : width;
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '=' : ' ';
  bar[width] = '\0';
  const double rate = t.seconds > 0 ? t.consumed / t.seconds : 0.0;
  const double fresh_rate = t.seconds > 0 ? t.fresh / t.seconds : 0.0;
  const double eta = fresh_rate > 0 ? (n - done) / fresh_rate : 0.0;
  fprintf(
      out,
      "\repoch %lld [%s] %3d%% %6.0f ex/s loss %.4f ETA %4.0fs | fresh %llu "
      "consumed %llu e %.2f dup %.1f%% wait %.0f%% ",
      static_cast<long long>(epoch), bar,
      n ? static_cast<int>(100 * done / n) : 100, rate, t.loss(), eta,
      static_cast<unsigned long long>(t.fresh),
      static_cast<unsigned long long>(t.consumed), echo_in_effect,
      100 * t.duplicate_rate(), 100 * t.wait_fraction());
  fflush(out);
}

}  // namespace sparrow
