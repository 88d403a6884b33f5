// The interpreter against the double-precision reference on every test
// model, with and without fusion, for several thread counts; plus the
// arena contract, zero allocations in Invoke(), state and error paths.
#include "runtime/interpreter.h"

#include <math.h>
#include <string.h>

#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "hwy/aligned_allocator.h"
#include "runtime/interpreter_test_models.h"
#include "runtime/model.h"
#include "runtime/model_test_models.h"
#include "runtime/testing/alloc_counter.h"
#include "runtime/testing/reference_interpreter.h"

namespace sparrow {
namespace {

struct Loaded {
  std::vector<uint8_t> bytes;  // keeps the borrowed model alive
  hwy::AlignedFreeUniquePtr<uint8_t[]> aligned;
  StatusOr<Model> model = Status(StatusCode::kInternal, "not loaded");
};

std::unique_ptr<Loaded> Load(const ModelBuilder& b) {
  auto l = std::make_unique<Loaded>();
  l->bytes = b.Finish();
  l->aligned = hwy::AllocateAligned<uint8_t>(l->bytes.size());
  memcpy(l->aligned.get(), l->bytes.data(), l->bytes.size());
  l->model = Model::FromBuffer(l->aligned.get(), l->bytes.size());
  return l;
}

// Deterministic inputs: floats in [-1, 1], i32 indices within [0, limit).
std::vector<std::vector<double>> MakeInputs(const Model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<std::vector<double>> inputs;
  for (int32_t t : m.inputs()) {
    const TensorInfo& info = m.tensor(t);
    std::vector<double> v(info.num_elements);
    for (double& x : v) {
      x = info.dtype == schema::DType::I32
              ? static_cast<double>(rng() % test_models::kMiscVocab)
              : static_cast<float>(uni(rng));
    }
    inputs.push_back(std::move(v));
  }
  return inputs;
}

void Feed(Interpreter& it, const std::vector<std::vector<double>>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorView v = it.input(i);
    for (size_t j = 0; j < v.num_elements; ++j) {
      if (v.dtype == schema::DType::I32) {
        v.i32()[j] = static_cast<int32_t>(inputs[i][j]);
      } else {
        v.f32()[j] = static_cast<float>(inputs[i][j]);
      }
    }
  }
}

std::vector<std::vector<float>> Outputs(const Interpreter& it) {
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    const TensorView v = it.output(i);
    out.emplace_back(v.f32(), v.f32() + v.num_elements);
  }
  return out;
}

// More threads than this machine has cores are run unpinned.
InterpreterOptions WithThreads(size_t threads) {
  InterpreterOptions o;
  o.threads = threads;
  o.pin = threads <= std::thread::hardware_concurrency();
  o.min_macs_per_thread = 1;  // split every step the kernels can split
  return o;
}

struct NamedModel {
  std::string name;
  std::function<ModelBuilder()> make;
};

std::vector<NamedModel> AllModels() {
  return {
      {"tiny_mlp", [] { return test_models::TinyMlp(); }},
      {"tiny_mlp_bf16", [] { return test_models::TinyMlp(true); }},
      {"tiny_sparse_gru", test_models::TinySparseGru},
      {"gru_sequence", test_models::GruSequence},
      {"sparse_fc", test_models::SparseFc},
      {"convnet", test_models::ConvNet},
      {"misc", test_models::Misc},
      {"fusion_chain", test_models::FusionChain},
      {"fusion_blocked", test_models::FusionBlocked},
      {"wide_sparse_mlp", test_models::WideSparseMlp},
      {"dense_gru_state", test_models::DenseGruState},
      {"sparse_gru_sequence", test_models::SparseGruSequence},
      {"strided_conv", test_models::StridedConv},
      {"grey_conv", test_models::GreyConv},
      {"softmax_axes", test_models::SoftmaxAxes},
      {"broadcast", test_models::Broadcast},
      {"batched_fc", test_models::BatchedFc},
  };
}

// |got - want| <= 2e-5 (1 + |want|): the kernels accumulate in f32 (FMA
// chains of at most a few hundred terms of size <= 1 here, so ~1e-5 of
// rounding) and the precise activations are within 4 ULP.
constexpr double kTolerance = 2e-5;

TEST(Interpreter, EveryModelMatchesTheReference) {
  for (const NamedModel& nm : AllModels()) {
    for (bool fuse : {true, false}) {
      for (size_t threads : {1, 2, 3}) {
        SCOPED_TRACE(nm.name + (fuse ? " fused" : " unfused") + ", threads " +
                     std::to_string(threads));
        auto l = Load(nm.make());
        ASSERT_TRUE(l->model.ok()) << l->model.status().ToString();
        InterpreterOptions o = WithThreads(threads);
        o.fuse = fuse;
        StatusOr<Interpreter> it = Interpreter::Create(*l->model, o);
        ASSERT_TRUE(it.ok()) << it.status().ToString();
        ReferenceInterpreter ref(*l->model);
        // Three calls: state (GRU steps) carries over between them.
        for (uint32_t call = 0; call < 3; ++call) {
          const auto inputs = MakeInputs(*l->model, 17 + call);
          Feed(*it, inputs);
          for (size_t i = 0; i < inputs.size(); ++i) ref.SetInput(i, inputs[i]);
          const Status st = it->Invoke();
          ASSERT_TRUE(st.ok()) << st.ToString();
          ASSERT_TRUE(ref.Invoke().ok());
          const auto got = Outputs(*it);
          for (size_t o = 0; o < got.size(); ++o) {
            const std::vector<double>& want = ref.Output(o);
            ASSERT_EQ(got[o].size(), want.size());
            double worst = 0.0;
            for (size_t j = 0; j < want.size(); ++j) {
              const double err = fabs(got[o][j] - want[j]) / (1.0 + fabs(want[j]));
              worst = std::max(worst, err);
              ASSERT_LE(err, kTolerance)
                  << "output " << o << "[" << j << "]: got " << got[o][j]
                  << ", want " << want[j] << " (call " << call << ")";
            }
          }
        }
      }
    }
  }
}

TEST(Interpreter, ResultsAreBitIdenticalForAnyThreadCount) {
  for (const NamedModel& nm : AllModels()) {
    SCOPED_TRACE(nm.name);
    auto l = Load(nm.make());
    ASSERT_TRUE(l->model.ok());
    std::vector<std::vector<std::vector<float>>> per_threads;
    for (size_t threads = 1; threads <= 4; ++threads) {
      const InterpreterOptions o = WithThreads(threads);
      StatusOr<Interpreter> it = Interpreter::Create(*l->model, o);
      ASSERT_TRUE(it.ok()) << it.status().ToString();
      std::vector<std::vector<float>> all;
      for (uint32_t call = 0; call < 2; ++call) {
        Feed(*it, MakeInputs(*l->model, 5 + call));
        ASSERT_TRUE(it->Invoke().ok());
        for (auto& v : Outputs(*it)) all.push_back(std::move(v));
      }
      per_threads.push_back(std::move(all));
    }
    for (size_t t = 1; t < per_threads.size(); ++t) {
      ASSERT_EQ(per_threads[t].size(), per_threads[0].size());
      for (size_t o = 0; o < per_threads[0].size(); ++o) {
        EXPECT_EQ(0, memcmp(per_threads[t][o].data(), per_threads[0][o].data(),
                            per_threads[0][o].size() * sizeof(float)))
            << (t + 1) << " threads differ from 1 in output " << o;
      }
    }
  }
}

TEST(Interpreter, InvokeDoesNotAllocate) {
  for (const NamedModel& nm : AllModels()) {
    for (size_t threads : {1, 2}) {
      SCOPED_TRACE(nm.name + ", threads " + std::to_string(threads));
      auto l = Load(nm.make());
      ASSERT_TRUE(l->model.ok());
      const InterpreterOptions o = WithThreads(threads);
      StatusOr<Interpreter> it = Interpreter::Create(*l->model, o);
      ASSERT_TRUE(it.ok()) << it.status().ToString();
      Feed(*it, MakeInputs(*l->model, 3));
      std::vector<uint64_t> step_ns(it->steps().size());
      AllocationCounter counter;
      Status s1 = it->Invoke();
      Status s2 = it->Invoke(step_ns.data());
      it->ResetState();
      Status s3 = it->Invoke();
      counter.Stop();
      EXPECT_TRUE(s1.ok()) << s1.ToString();
      EXPECT_TRUE(s2.ok()) << s2.ToString();
      EXPECT_TRUE(s3.ok()) << s3.ToString();
      EXPECT_EQ(counter.Allocations(), 0u);
    }
  }
}

TEST(Interpreter, PlannedHeadIsWithinTenPercentOfTheLowerBound) {
  for (const NamedModel& nm : AllModels()) {
    SCOPED_TRACE(nm.name);
    auto l = Load(nm.make());
    ASSERT_TRUE(l->model.ok());
    StatusOr<Interpreter> it = Interpreter::Create(*l->model);
    ASSERT_TRUE(it.ok());
    const ArenaSummary& a = it->arena_summary();
    EXPECT_GE(a.head_bytes, a.head_lower_bound);
    EXPECT_LE(a.head_bytes * 10, a.head_lower_bound * 11)
        << a.head_bytes << " vs lower bound " << a.head_lower_bound;
  }
}

TEST(Interpreter, CallerArenaExactSizeAtAnyBaseAndTooSmall) {
  auto l = Load(test_models::ConvNet());
  ASSERT_TRUE(l->model.ok());
  StatusOr<size_t> need = Interpreter::ArenaBytesNeeded(*l->model);
  ASSERT_TRUE(need.ok());
  auto block = hwy::AllocateAligned<uint8_t>(*need + 64);
  for (size_t offset : {0, 1, 17, 63}) {
    SCOPED_TRACE(offset);
    StatusOr<Interpreter> it =
        Interpreter::Create(*l->model, block.get() + offset, *need);
    ASSERT_TRUE(it.ok()) << it.status().ToString();
    EXPECT_LE(it->ArenaBytesUsed(), *need);
    uint8_t* in = static_cast<uint8_t*>(it->input(0).data);
    EXPECT_GE(in, block.get() + offset);
    EXPECT_LT(in, block.get() + offset + *need);
    EXPECT_TRUE(it->Invoke().ok());
  }
  // An aligned base needs 63 bytes less; one byte less than that fails.
  const size_t aligned_need = *need - 63;
  StatusOr<Interpreter> small =
      Interpreter::Create(*l->model, block.get(), aligned_need - 1);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(small.status().message())
                .find("need " + std::to_string(aligned_need) + " bytes"),
            std::string::npos)
      << small.status().message();
  EXPECT_TRUE(Interpreter::Create(*l->model, block.get(), aligned_need).ok());
}

TEST(Interpreter, FusionPassFusesLinearBiasActivation) {
  auto l = Load(test_models::FusionChain());
  ASSERT_TRUE(l->model.ok());
  StatusOr<Interpreter> fused = Interpreter::Create(*l->model);
  ASSERT_TRUE(fused.ok());
  // FC -> Add(bias) -> Activation; Conv2D -> Add(bias) -> Activation.
  ASSERT_EQ(fused->steps().size(), 2u);
  EXPECT_EQ(fused->steps()[0].ops, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_NE(fused->steps()[0].kernel.find("+bias +tanh"), std::string::npos)
      << fused->steps()[0].kernel;
  EXPECT_EQ(fused->steps()[1].ops, (std::vector<int32_t>{3, 4, 5}));
  InterpreterOptions o;
  o.fuse = false;
  StatusOr<Interpreter> plain = Interpreter::Create(*l->model, o);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->steps().size(), 6u);

  // An intermediate with a second reader (or a graph output) is not fused.
  auto b = Load(test_models::FusionBlocked());
  ASSERT_TRUE(b->model.ok());
  StatusOr<Interpreter> blocked = Interpreter::Create(*b->model);
  ASSERT_TRUE(blocked.ok());
  EXPECT_EQ(blocked->steps().size(), b->model->num_ops());
}

TEST(Interpreter, StateCarriesAcrossInvokeAndResets) {
  auto l = Load(test_models::TinySparseGru());
  ASSERT_TRUE(l->model.ok());
  StatusOr<Interpreter> it = Interpreter::Create(*l->model);
  ASSERT_TRUE(it.ok());
  const auto inputs = MakeInputs(*l->model, 9);
  Feed(*it, inputs);
  ASSERT_TRUE(it->Invoke().ok());
  const auto first = Outputs(*it);
  Feed(*it, inputs);
  ASSERT_TRUE(it->Invoke().ok());
  EXPECT_NE(Outputs(*it), first);  // h moved on
  it->ResetState();
  Feed(*it, inputs);
  ASSERT_TRUE(it->Invoke().ok());
  EXPECT_EQ(Outputs(*it), first);
}

TEST(Interpreter, EmbeddingIndexOutsideTheTableIsAnError) {
  auto l = Load(test_models::Misc());
  ASSERT_TRUE(l->model.ok());
  StatusOr<Interpreter> it = Interpreter::Create(*l->model);
  ASSERT_TRUE(it.ok());
  Feed(*it, MakeInputs(*l->model, 1));
  for (int32_t bad : {-1, test_models::kMiscVocab, 1 << 30}) {
    it->input(0).i32()[1] = bad;
    const Status s = it->Invoke();
    EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
    EXPECT_NE(std::string(s.message()).find("indices[1]=" + std::to_string(bad)),
              std::string::npos)
        << s.message();
  }
}

TEST(Interpreter, BadOptionsAreErrors) {
  auto l = Load(test_models::TinyMlp());
  ASSERT_TRUE(l->model.ok());
  InterpreterOptions o;
  o.threads = 0;
  EXPECT_EQ(Interpreter::Create(*l->model, o).status().code(),
            StatusCode::kInvalidArgument);
  o.threads = 2;
  o.cores = {0};
  const Status s = Interpreter::Create(*l->model, o).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("cores"), std::string::npos);
  EXPECT_EQ(Interpreter::Create(*l->model, nullptr, 100).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Interpreter, MovingKeepsTensorPointers) {
  auto l = Load(test_models::TinyMlp());
  ASSERT_TRUE(l->model.ok());
  StatusOr<Interpreter> it = Interpreter::Create(*l->model);
  ASSERT_TRUE(it.ok());
  void* in = it->input(0).data;
  Interpreter moved = std::move(it).value();
  EXPECT_EQ(moved.input(0).data, in);
  EXPECT_TRUE(moved.Invoke().ok());
}

}  // namespace
}  // namespace sparrow
