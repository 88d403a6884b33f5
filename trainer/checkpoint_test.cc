// trainer/checkpoint.h: resuming a tiny linear regression is bit-exact for
// every optimizer; interrupted writes keep the old checkpoint; every kind of
// bad file (truncated, flipped bytes, wrong magic or version, a different
// model or optimizer, NaN) is refused and changes nothing.
#include "trainer/checkpoint.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "trainer/optim/optimizer.h"
#include "trainer/optim/schedule.h"
#include "trainer/param.h"
#include "zlib.h"

namespace sparrow {
namespace train {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<uint8_t>;

std::string TempPath(const std::string& name) {
  const char* tmp = getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

Bytes ReadFile(const std::string& path) {
  Bytes b;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return b;
  int c;
  while ((c = fgetc(f)) != EOF) b.push_back(static_cast<uint8_t>(c));
  fclose(f);
  return b;
}

void WriteFile(const std::string& path, const Bytes& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  }
  ASSERT_EQ(fclose(f), 0);
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// splitmix64: the trainer's RNG here; its 8-byte state is the opaque blob.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  Bytes Save() const {
    Bytes b(8);
    memcpy(b.data(), &s, 8);
    return b;
  }
  void Restore(const Bytes& b) {
    ASSERT_EQ(b.size(), 8u);
    memcpy(&s, b.data(), 8);
  }
};

constexpr int kIn = 3, kOut = 2, kSamples = 32, kBatch = 4;
constexpr int kStepsPerEpoch = kSamples / kBatch;

// y = W x + b on fixed data, mean squared error, minibatches drawn by the RNG.
struct Trainer {
  explicit Trainer(const std::string& optimizer_spec)
      : w("fc.weight", {kOut, kIn}), b("fc.bias", {kOut}, /*decay_=*/false) {
    for (int i = 0; i < kOut * kIn; ++i) w.value[i] = 0.1f * (i - 2);
    StatusOr<std::unique_ptr<Optimizer>> made =
        Optimizer::Create(optimizer_spec);
    EXPECT_TRUE(made.ok()) << made.status().message();
    opt = std::move(made).value();
    Rng data{42};
    for (int n = 0; n < kSamples; ++n) {
      for (int i = 0; i < kIn; ++i)
        x[n][i] = (data.Next() >> 40) * 0x1p-23f - 1;
      for (int o = 0; o < kOut; ++o) {
        y[n][o] = 0.5f * o - 0.25f;
        for (int i = 0; i < kIn; ++i) y[n][o] += (o + 1) * (i - 1) * x[n][i];
      }
    }
  }
  std::vector<Param*> Params() { return {&w, &b}; }

  void Steps(int n) {
    const Schedule schedule =
        std::move(
            Schedule::Parse("cosine:warmup=3,total=40,min=1e-4", opt->lr()))
            .value();
    for (int s = 0; s < n; ++s) {
      w.ZeroGrad();
      b.ZeroGrad();
      for (int k = 0; k < kBatch; ++k) {
        const int idx = static_cast<int>(rng.Next() % kSamples);
        for (int o = 0; o < kOut; ++o) {
          float pred = b.value[o];
          for (int i = 0; i < kIn; ++i)
            pred += w.value[o * kIn + i] * x[idx][i];
          const float d = 2.0f * (pred - y[idx][o]) / (kBatch * kOut);
          b.grad[o] += d;
          for (int i = 0; i < kIn; ++i) w.grad[o * kIn + i] += d * x[idx][i];
        }
      }
      opt->Step(Params(), schedule.LearningRate(step));
      ++step;
    }
  }
  TrainingState State() const {
    TrainingState s;
    s.step = step;
    s.epoch = step / kStepsPerEpoch;
    s.rng = rng.Save();
    return s;
  }
  Bytes OptimizerState() const {
    Bytes b;
    opt->SaveState(&b);
    return b;
  }
  void ExpectBitEqual(const Trainer& o, const char* what) const {
    ASSERT_EQ(w.value.size(), o.w.value.size());
    EXPECT_EQ(memcmp(w.value.data(), o.w.value.data(), 4 * w.value.size()), 0)
        << what;
    EXPECT_EQ(memcmp(b.value.data(), o.b.value.data(), 4 * b.value.size()), 0)
        << what;
    EXPECT_EQ(OptimizerState(), o.OptimizerState()) << what;
    EXPECT_EQ(step, o.step) << what;
    EXPECT_EQ(rng.s, o.rng.s) << what;
  }

  Param w, b;
  std::unique_ptr<Optimizer> opt;
  Rng rng{7};
  int64_t step = 0;
  float x[kSamples][kIn], y[kSamples][kOut];
};

const char* const kOptimizers[] = {
    "sgd:lr=0.1", "sgd:lr=0.05,momentum=0.9,wd=0.01",
    "sgd:lr=0.05,momentum=0.9,nesterov=1", "adam:lr=0.05,wd=0.01",
    "adamw:lr=0.05,wd=0.1"};

Status Save(const std::string& path, Trainer& t) {
  return WriteCheckpoint(path, t.State(), t.Params(), *t.opt);
}

Status Load(const std::string& path, Trainer& t) {
  TrainingState state;
  const Status s = ReadCheckpoint(path, t.Params(), t.opt.get(), &state);
  if (!s.ok()) return s;
  t.step = state.step;
  t.rng.Restore(state.rng);
  EXPECT_EQ(state.epoch, state.step / kStepsPerEpoch);
  return s;
}

TEST(CheckpointTest, ResumeIsBitExact) {
  constexpr int kN = 30, kK = 11;
  for (const char* spec : kOptimizers) {
    Trainer whole(spec);
    whole.Steps(kN);

    const std::string path = TempPath("resume.spc");
    Trainer first(spec);
    first.Steps(kK);
    ASSERT_TRUE(Save(path, first).ok()) << spec;
    Trainer resumed(spec);  // fresh params, optimizer and RNG
    const Status s = Load(path, resumed);
    ASSERT_TRUE(s.ok()) << spec << ": " << s.message();
    resumed.ExpectBitEqual(first, spec);
    resumed.Steps(kN - kK);
    resumed.ExpectBitEqual(whole, spec);
    EXPECT_FALSE(Exists(path + ".tmp"));
  }
}

TEST(CheckpointTest, ResumingWithoutOptimizerStateOrRngDiffers) {
  // So ResumeIsBitExact can fail: each part of the checkpoint matters.
  const std::string path = TempPath("partial.spc");
  for (const char* spec : {"sgd:lr=0.05,momentum=0.9", "adamw:lr=0.05"}) {
    Trainer whole(spec);
    whole.Steps(30);
    Trainer first(spec);
    first.Steps(11);
    ASSERT_TRUE(Save(path, first).ok());
    Trainer no_opt(spec);
    TrainingState state;
    ASSERT_TRUE(ReadCheckpoint(path, no_opt.Params(), nullptr, &state).ok());
    no_opt.step = state.step;
    no_opt.rng.Restore(state.rng);
    no_opt.Steps(19);
    EXPECT_NE(no_opt.w.value, whole.w.value) << spec;
    Trainer no_rng(spec);
    ASSERT_TRUE(
        ReadCheckpoint(path, no_rng.Params(), no_rng.opt.get(), &state).ok());
    no_rng.step = state.step;
    no_rng.Steps(19);
    EXPECT_NE(no_rng.w.value, whole.w.value) << spec;
  }
}

TEST(CheckpointTest, RoundTripsCountersAndBlob) {
  Trainer t("adamw");
  t.Steps(5);
  TrainingState state;
  state.step = int64_t{1} << 40;
  state.epoch = 123456789;
  state.rng = Bytes(5000);
  for (size_t i = 0; i < state.rng.size(); ++i) state.rng[i] = i * 7 + 1;
  const std::string path = TempPath("blob.spc");
  ASSERT_TRUE(WriteCheckpoint(path, state, t.Params(), *t.opt).ok());
  Trainer u("adamw");
  TrainingState got;
  ASSERT_TRUE(ReadCheckpoint(path, u.Params(), u.opt.get(), &got).ok());
  EXPECT_EQ(got.step, state.step);
  EXPECT_EQ(got.epoch, state.epoch);
  EXPECT_EQ(got.rng, state.rng);
  EXPECT_EQ(u.w.value, t.w.value);
  EXPECT_EQ(u.opt->steps(), 5);
  // The layout of the header, as documented.
  const Bytes file = ReadFile(path);
  ASSERT_GE(file.size(), kCheckpointHeaderBytes);
  EXPECT_EQ(memcmp(file.data(), "SPRWCKPT", 8), 0);
  EXPECT_EQ(file[8], 1);  // version, little-endian
  uint64_t payload;
  memcpy(&payload, &file[16], 8);
  EXPECT_EQ(payload, file.size() - kCheckpointHeaderBytes);
  uint32_t crc;
  memcpy(&crc, &file[12], 4);
  EXPECT_EQ(crc, crc32(0, file.data() + 24, static_cast<uInt>(payload)));
}

// ---- Interrupted writes.

TEST(CheckpointTest, TempPathInTheWayKeepsOldCheckpoint) {
  const std::string path = TempPath("blocked.spc");
  Trainer t("sgd:momentum=0.9");
  t.Steps(3);
  ASSERT_TRUE(Save(path, t).ok());
  const Bytes good = ReadFile(path);
  ASSERT_EQ(mkdir((path + ".tmp").c_str(), 0755), 0);
  t.Steps(3);
  const Status s = Save(path, t);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("cannot create " + path + ".tmp"));
  EXPECT_EQ(ReadFile(path), good);
  Trainer u("sgd:momentum=0.9");
  ASSERT_TRUE(Load(path, u).ok());
  EXPECT_EQ(u.step, 3);
  ASSERT_EQ(rmdir((path + ".tmp").c_str()), 0);
}

TEST(CheckpointTest, WriteFailingMidFileKeepsOldCheckpoint) {
  // The file-size limit makes write() fail part-way, as a full disk would.
  const std::string path = TempPath("full.spc");
  Trainer t("adamw");
  t.Steps(3);
  ASSERT_TRUE(Save(path, t).ok());
  const Bytes good = ReadFile(path);
  ASSERT_GT(good.size(), 100u);
  t.Steps(3);
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 100;  // bytes
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  const Status s = Save(path, t);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  signal(SIGXFSZ, old_handler);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  EXPECT_THAT(s.message(), HasSubstr("writing " + path + ".tmp at byte 100"));
  EXPECT_FALSE(Exists(path + ".tmp"));
  EXPECT_EQ(ReadFile(path), good);
  Trainer u("adamw");
  ASSERT_TRUE(Load(path, u).ok());
  EXPECT_EQ(u.step, 3);
}

TEST(CheckpointTest, StaleTempFileFromACrashIsHarmless) {
  const std::string path = TempPath("crashed.spc");
  Trainer t("adam");
  t.Steps(2);
  ASSERT_TRUE(Save(path, t).ok());
  const Bytes good = ReadFile(path);
  // A crash mid-write leaves a prefix of a newer checkpoint in the temp file.
  WriteFile(path + ".tmp", Bytes(good.begin(), good.begin() + good.size() / 2));
  Trainer u("adam");
  ASSERT_TRUE(Load(path, u).ok());
  EXPECT_EQ(u.step, 2);
  // The next write replaces both.
  u.Steps(2);
  ASSERT_TRUE(Save(path, u).ok());
  EXPECT_FALSE(Exists(path + ".tmp"));
  Trainer v("adam");
  ASSERT_TRUE(Load(path, v).ok());
  EXPECT_EQ(v.step, 4);
}

TEST(CheckpointTest, WriteErrors) {
  Trainer t("sgd");
  Status s = Save(TempPath("no/such/dir/x.spc"), t);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("no/such/dir/x.spc.tmp"));
  // A diverged model does not replace a good checkpoint.
  const std::string path = TempPath("diverged.spc");
  ASSERT_TRUE(Save(path, t).ok());
  const Bytes good = ReadFile(path);
  t.w.value[4] = NAN;
  s = Save(path, t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("param \"fc.weight\" value[4] is nan"));
  EXPECT_EQ(ReadFile(path), good);
}

// ---- Bad files. Each must fail with `error` and leave the trainer as it was.

struct Snapshot {
  explicit Snapshot(const Trainer& t)
      : w(t.w.value), b(t.b.value), opt(t.OptimizerState()) {}
  bool operator==(const Snapshot& o) const {
    return w == o.w && b == o.b && opt == o.opt;
  }
  std::vector<float> w, b;
  Bytes opt;
};

void ExpectRefused(const Bytes& file, Trainer& t, StatusCode code,
                   const std::string& error) {
  const Snapshot before(t);
  TrainingState state;
  state.step = -7;
  const Status s = DecodeCheckpoint(file.data(), file.size(), "x.spc",
                                    t.Params(), t.opt.get(), &state);
  EXPECT_EQ(s.code(), code) << error << ": " << s.message();
  EXPECT_THAT(s.message(), HasSubstr(error));
  EXPECT_THAT(s.message(), HasSubstr("x.spc"));
  EXPECT_TRUE(Snapshot(t) == before) << error << ": the trainer changed";
  EXPECT_EQ(state.step, -7) << error;
}

Bytes Encode(Trainer& t) {
  StatusOr<Bytes> b = EncodeCheckpoint(t.State(), t.Params(), *t.opt);
  EXPECT_TRUE(b.ok()) << b.status().message();
  return b.ok() ? std::move(b).value() : Bytes();
}

// Fixes the CRC after an edit, so the payload's own checks are reached.
void Recrc(Bytes& file) {
  const uint32_t crc = crc32(0, file.data() + 24, file.size() - 24);
  memcpy(&file[12], &crc, 4);
}

// Payload offsets for Trainer's checkpoints (8-byte RNG, "fc.weight" first).
constexpr size_t kStepAt = 24, kRngLenAt = 40, kNumParamsAt = 56,
                 kNameLenAt = 60, kRankAt = 73, kValuesAt = 85;

TEST(CheckpointReadTest, MissingOrNotAFile) {
  Trainer t("sgd");
  Status s =
      ReadCheckpoint(TempPath("nope.spc"), t.Params(), t.opt.get(), nullptr);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("nope.spc"));
  s = ReadCheckpoint(TempPath(""), t.Params(), t.opt.get(), nullptr);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("is not a regular file"));
}

TEST(CheckpointReadTest, EveryTruncationAndEveryFlippedByteIsRefused) {
  Trainer t("adamw");
  t.Steps(2);
  const Bytes good = Encode(t);
  Trainer target("adamw");
  target.Steps(1);
  for (size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + n);
    ExpectRefused(
        cut, target, StatusCode::kDataLoss,
        n < 24 ? "the header alone is 24" : "truncated: payload_bytes=");
  }
  Bytes longer = good;
  longer.push_back(0);
  ExpectRefused(longer, target, StatusCode::kDataLoss, "1 trailing bytes");
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x10;
    const Snapshot before(target);
    const Status s =
        DecodeCheckpoint(bad.data(), bad.size(), "x.spc", target.Params(),
                         target.opt.get(), nullptr);
    EXPECT_FALSE(s.ok()) << "byte " << i;
    EXPECT_TRUE(Snapshot(target) == before) << "byte " << i;
  }
}

TEST(CheckpointReadTest, HeaderFields) {
  Trainer t("sgd");
  const Bytes good = Encode(t);
  Bytes bad = good;
  memcpy(bad.data(), "GGUF\0\0\0\0", 8);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument,
                "not a Sparrow checkpoint: magic is 4747554600000000");
  bad = good;
  bad[8] = 2;
  ExpectRefused(bad, t, StatusCode::kInvalidArgument,
                "version=2, this build reads version 1");
  bad = good;
  bad[24 + 3] ^= 1;
  ExpectRefused(bad, t, StatusCode::kDataLoss, "crc32=0x");
  bad = good;
  bad[16] += 4;  // payload_bytes
  ExpectRefused(bad, t, StatusCode::kDataLoss, "but the file holds");
  bad = good;
  bad[16] -= 4;
  ExpectRefused(bad, t, StatusCode::kDataLoss, "4 trailing bytes");
}

TEST(CheckpointReadTest, ADifferentModelOrOptimizerIsRefused) {
  Trainer t("adam");
  t.Steps(2);
  const Bytes file = Encode(t);
  {
    Trainer u("adam");
    u.w.name = "fc1.weight";
    ExpectRefused(file, u, StatusCode::kInvalidArgument,
                  "param 0 is \"fc.weight\", the model's is \"fc1.weight\"");
  }
  {
    Trainer u("adam");  // same size, transposed
    u.w = Param("fc.weight", {kIn, kOut});
    ExpectRefused(file, u, StatusCode::kInvalidArgument,
                  "param \"fc.weight\" has shape [2,3] in the checkpoint, "
                  "[3,2] in the model");
  }
  {
    Trainer u("adam");
    Param extra("fc2.weight", {4});
    const Snapshot before(u);
    const Status s =
        DecodeCheckpoint(file.data(), file.size(), "x.spc",
                         {&u.w, &u.b, &extra}, u.opt.get(), nullptr);
    EXPECT_THAT(s.message(), HasSubstr("num_params=2, the model has 3"));
    EXPECT_TRUE(Snapshot(u) == before);
  }
  {
    Trainer u("adamw");
    ExpectRefused(file, u, StatusCode::kInvalidArgument,
                  "optimizer state: kind=\"adam\", but this optimizer is "
                  "\"adamw\"");
  }
  Trainer m("sgd:momentum=0.9");
  m.Steps(1);
  Trainer plain("sgd");
  ExpectRefused(Encode(m), plain, StatusCode::kInvalidArgument, "buffers=1");
  // Hyper-parameters may change on resume: only the kind and state matter.
  Trainer other_lr("adam:lr=0.5,beta1=0.5");
  EXPECT_TRUE(DecodeCheckpoint(file.data(), file.size(), "x.spc",
                               other_lr.Params(), other_lr.opt.get(), nullptr)
                  .ok());
}

TEST(CheckpointReadTest, CraftedPayloadsWithAValidCrcAreRefused) {
  Trainer t("adam");
  t.Steps(2);
  const Bytes good = Encode(t);
  ASSERT_EQ(memcmp(&good[kNameLenAt + 4], "fc.weight", 9), 0);
  Bytes bad = good;
  const float nan = NAN;
  memcpy(&bad[kValuesAt + 4], &nan, 4);
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument,
                "param \"fc.weight\" value[1] is nan");
  bad = good;
  bad[kStepAt + 7] = 0x80;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument, "must be >= 0");
  bad = good;
  bad[kRngLenAt + 5] = 1;  // 2^40 bytes of RNG state
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kDataLoss,
                "rng_bytes=1099511627784 at offset 16");
  bad = good;
  bad[kNumParamsAt] = 0;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument, "num_params=0");
  bad = good;
  bad[kNameLenAt + 2] = 1;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument,
                "param name is 65545 bytes long");
  bad = good;
  bad[kRankAt] = 200;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument, "rank=200, at most 8");
  bad = good;
  bad[kRankAt] = 1;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument, "has shape [2]");
  // The optimizer state's length runs past the end.
  bad = good;
  const size_t opt_len_at = good.size() - t.opt->StateBytes() - 8;
  bad[opt_len_at + 4] = 1;
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kDataLoss, "optimizer_state_bytes=");
  // The optimizer's own checks, reported with the file name.
  bad = good;
  bad[opt_len_at + 8] = 9;  // its version
  Recrc(bad);
  ExpectRefused(bad, t, StatusCode::kInvalidArgument,
                "x.spc: optimizer state: version=9");
}

TEST(CheckpointReadTest, NullOptimizerLoadsParamsOnly) {
  Trainer t("adamw");
  t.Steps(4);
  const Bytes file = Encode(t);
  Trainer u("sgd");  // any optimizer: its state is not read
  ASSERT_TRUE(DecodeCheckpoint(file.data(), file.size(), "x.spc", u.Params(),
                               nullptr, nullptr)
                  .ok());
  EXPECT_EQ(u.w.value, t.w.value);
  EXPECT_EQ(u.b.value, t.b.value);
  EXPECT_EQ(u.opt->steps(), 0);
}

}  // namespace
}  // namespace train
}  // namespace sparrow
