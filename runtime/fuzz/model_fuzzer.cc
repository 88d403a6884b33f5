// libFuzzer target over Model::FromBuffer and the interpreter. What it checks
// is in model_fuzzer.h; how to run it in docs/FUZZING.md.
#include "runtime/fuzz/model_fuzzer.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "hwy/base.h"
#include "kernels/activation_type.h"
#include "kernels/status.h"
#include "runtime/interpreter.h"
#include "runtime/model.h"

namespace sparrow {
namespace fuzz {
namespace {

// Exactly `size` bytes (ASan flags a read one past the end), 64-byte aligned
// so FromBuffer borrows them, or at an odd address so it copies them.
class InputCopy {
 public:
  InputCopy(const uint8_t* data, size_t size, bool aligned) {
    if (aligned) {
      void* p = nullptr;
      HWY_ASSERT(posix_memalign(&p, kModelAlignment, size == 0 ? 1 : size) ==
                 0);
      block_ = static_cast<uint8_t*>(p);
      bytes_ = block_;
    } else {
      block_ = static_cast<uint8_t*>(malloc(size + 1));
      HWY_ASSERT(block_ != nullptr);
      bytes_ = block_ + 1;  // malloc returns 16-byte aligned memory
    }
    if (size != 0) memcpy(bytes_, data, size);
  }
  InputCopy(const InputCopy&) = delete;
  InputCopy& operator=(const InputCopy&) = delete;
  ~InputCopy() { free(block_); }

  const uint8_t* bytes() const { return bytes_; }

 private:
  uint8_t* block_ = nullptr;
  uint8_t* bytes_ = nullptr;
};

bool IsAligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kModelAlignment == 0;
}

// Reads the first and last byte of [p, p + bytes) so ASan checks both ends.
volatile uint8_t g_sink;
void Touch(const void* p, size_t bytes) {
  if (bytes == 0) return;
  const uint8_t* b = static_cast<const uint8_t*>(p);
  g_sink = static_cast<uint8_t>(g_sink + b[0] + b[bytes - 1]);
}

// The loader's contract (runtime/model.h): every weight pointer is 64-byte
// aligned and lies inside the file, and the accessors agree with each other.
void CheckLoadedModel(const Model& model) {
  const uint8_t* begin = model.data();
  const uint8_t* end = begin + model.size();
  auto inside = [&](const void* p, size_t bytes) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    return b >= begin && b <= end && bytes <= static_cast<size_t>(end - b);
  };
  for (size_t i = 0; i < model.num_buffers(); ++i) {
    const BufferInfo& buf = model.buffer(i);
    if (buf.size == 0) continue;
    HWY_ASSERT(IsAligned(buf.data) && inside(buf.data, buf.size));
    Touch(buf.data, buf.size);
  }
  for (size_t i = 0; i < model.num_tensors(); ++i) {
    const TensorInfo& t = model.tensor(i);
    HWY_ASSERT(t.name != nullptr && t.rank() <= kMaxTensorRank);
    HWY_ASSERT(t.buffer < static_cast<int32_t>(model.num_buffers()));
    size_t elements = 1;
    for (size_t d = 0; d < t.rank(); ++d) {
      HWY_ASSERT(t.dim(d) >= 0);
      elements *= static_cast<size_t>(t.dim(d));
    }
    HWY_ASSERT(elements == t.num_elements);
    if (const void* w = model.TensorData(i)) {
      HWY_ASSERT(t.is_constant() && IsAligned(w) && inside(w, t.bytes));
      Touch(w, t.bytes);
    }
    if (const BlockSparseView* s = model.SparseWeights(i)) {
      HWY_ASSERT(t.is_constant() && model.TensorData(i) == nullptr);
      HWY_ASSERT(Validate(*s).ok());
      HWY_ASSERT(IsAligned(s->data) && inside(s->data, s->data_bytes));
    }
    if (t.name[0] != '\0') {
      HWY_ASSERT(model.FindTensor(t.name) == static_cast<int32_t>(i));
    }
  }
  for (size_t i = 0; i < model.num_ops(); ++i) {
    const OpInfo& op = model.op(i);
    HWY_ASSERT(op.table != nullptr);
    for (int32_t t : op.inputs) {
      HWY_ASSERT(t >= -1 && t < static_cast<int32_t>(model.num_tensors()));
    }
    for (int32_t t : op.outputs) {
      HWY_ASSERT(t >= 0 && t < static_cast<int32_t>(model.num_tensors()));
    }
  }
  for (int32_t t : model.inputs()) {
    HWY_ASSERT(t >= 0 && t < static_cast<int32_t>(model.num_tensors()));
  }
  for (int32_t t : model.outputs()) {
    HWY_ASSERT(t >= 0 && t < static_cast<int32_t>(model.num_tensors()));
  }
  HWY_ASSERT(model.description() != nullptr);
}

// Loading from an aligned and from an unaligned buffer must agree: the same
// Status, or models with the same structure.
void CheckSameLoad(const StatusOr<Model>& a, const StatusOr<Model>& b) {
  if (a.ok() != b.ok()) {
    HWY_ABORT("aligned load %s, unaligned load %s",
              a.ok() ? "OK" : a.status().ToString().c_str(),
              b.ok() ? "OK" : b.status().ToString().c_str());
  }
  if (!a.ok()) {
    if (a.status().code() != b.status().code() ||
        strcmp(a.status().message(), b.status().message()) != 0) {
      HWY_ABORT("aligned load '%s', unaligned load '%s'",
                a.status().ToString().c_str(), b.status().ToString().c_str());
    }
    return;
  }
  HWY_ASSERT(a->num_tensors() == b->num_tensors());
  HWY_ASSERT(a->num_ops() == b->num_ops());
  HWY_ASSERT(a->num_buffers() == b->num_buffers());
  for (size_t i = 0; i < a->num_tensors(); ++i) {
    HWY_ASSERT(a->tensor(i).bytes == b->tensor(i).bytes);
  }
}

// The caps of model_fuzzer.h: false if running `model` could be slow.
bool WithinCaps(const Model& model) {
  uint64_t total = 0;
  for (size_t i = 0; i < model.num_tensors(); ++i) {
    total += model.tensor(i).num_elements;
    if (total > kMaxTotalElements) return false;
  }
  uint64_t work = 0;
  for (size_t i = 0; i < model.num_ops(); ++i) {
    const OpInfo& op = model.op(i);
    uint64_t in = 0, out = 0;  // elements; each sum stays below 2^32
    for (int32_t t : op.inputs) {
      if (t >= 0) in += model.tensor(t).num_elements;
      if (in > kMaxWork) return false;
    }
    for (int32_t t : op.outputs) {
      out += model.tensor(t).num_elements;
      if (out > kMaxWork) return false;
    }
    work += std::max<uint64_t>(in, 1) * std::max<uint64_t>(out, 1);
    if (work > kMaxWork) return false;
  }
  return true;
}

// Deterministic input values. Tame: small floats and indices 0 and 1 (in
// range of any table of two or more rows). Wild: also NaN, infinities,
// huge floats, and indices that are negative or far past any table.
float FloatValue(size_t j, bool wild) {
  if (wild && j % 7 == 3) {
    const float special[4] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), 1e30f};
    return special[(j / 7) % 4];
  }
  return static_cast<float>(static_cast<int>((j * 37) % 17) - 8) / 8.0f;
}

int32_t IndexValue(size_t j, bool wild) {
  if (!wild) return static_cast<int32_t>(j % 2);
  const int32_t values[10] = {0,
                              1,
                              2,
                              3,
                              -1,
                              std::numeric_limits<int32_t>::max(),
                              std::numeric_limits<int32_t>::min(),
                              1 << 20,
                              5,
                              17};
  return values[j % 10];
}

void FillInputs(const Interpreter& interp, bool wild) {
  for (size_t i = 0; i < interp.num_inputs(); ++i) {
    const TensorView v = interp.input(i);
    if (v.bytes == 0) continue;
    HWY_ASSERT(v.data != nullptr && IsAligned(v.data));
    const size_t elem = DTypeSize(v.dtype);
    HWY_ASSERT(elem == 0 || v.bytes == v.num_elements * elem);
    if (v.dtype == schema::DType::F32) {
      float* p = static_cast<float*>(v.data);
      for (size_t j = 0; j < v.num_elements; ++j) p[j] = FloatValue(j, wild);
    } else if (v.dtype == schema::DType::I32) {
      int32_t* p = static_cast<int32_t*>(v.data);
      for (size_t j = 0; j < v.num_elements; ++j) p[j] = IndexValue(j, wild);
    } else {  // bf16, int8: any bit pattern is a value
      uint8_t* p = static_cast<uint8_t*>(v.data);
      for (size_t j = 0; j < v.bytes; ++j) {
        p[j] = static_cast<uint8_t>(j * 29 + 7);
      }
    }
  }
}

// Every output byte (ASan checks the views), concatenated.
std::vector<uint8_t> CopyOutputs(const Interpreter& interp) {
  std::vector<uint8_t> all;
  for (size_t i = 0; i < interp.num_outputs(); ++i) {
    const TensorView v = interp.output(i);
    if (v.bytes == 0) continue;
    HWY_ASSERT(v.data != nullptr && IsAligned(v.data));
    const uint8_t* p = static_cast<const uint8_t*>(v.data);
    all.insert(all.end(), p, p + v.bytes);
  }
  return all;
}

// Invoke() may only fail on what the inputs make wrong (interpreter.h).
bool InvokeOk(Interpreter& interp, const char* which) {
  const Status s = interp.Invoke();
  if (s.ok()) return true;
  if (s.code() != StatusCode::kOutOfRange) {
    HWY_ABORT("%s Invoke(): %s (only OUT_OF_RANGE is allowed)", which,
              s.ToString().c_str());
  }
  return false;
}

// Plans `model` into exactly ArenaBytesNeeded() bytes and runs it.
Reached PrepareAndInvoke(const Model& model, const FuzzOptions& options) {
  if (!WithinCaps(model)) return Reached::kLoaded;
  InterpreterOptions io;
  io.threads = 1;
  io.fuse = options.fuse;
  io.accuracy = options.fast ? Accuracy::kFast : Accuracy::kPrecise;
  const StatusOr<size_t> needed = Interpreter::ArenaBytesNeeded(model, io);
  if (!needed.ok()) return Reached::kLoaded;
  const size_t need = needed.value();  // bytes
  if (need > kMaxArenaBytes) return Reached::kLoaded;

  // Exactly need bytes from `arena` (ASan flags a write past them), at a
  // 64-byte aligned base or 17 bytes past one.
  const size_t offset = options.odd_arena ? 17 : 0;
  void* block = nullptr;
  HWY_ASSERT(posix_memalign(&block, 64, std::max<size_t>(need + offset, 1)) ==
             0);
  uint8_t* arena = static_cast<uint8_t*>(block) + offset;
  struct Free {
    void* p;
    ~Free() { free(p); }
  } free_block{block};

  StatusOr<Interpreter> created = Interpreter::Create(model, arena, need, io);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kResourceExhausted) {
      HWY_ABORT("ArenaBytesNeeded()=%zu, but Create() at base %% 64 = %zu: %s",
                need, offset, created.status().ToString().c_str());
    }
    return Reached::kLoaded;
  }
  Interpreter& interp = *created;
  HWY_ASSERT(interp.ArenaBytesUsed() <= need);
  HWY_ASSERT(interp.num_inputs() == model.inputs().size());
  HWY_ASSERT(interp.num_outputs() == model.outputs().size());

  FillInputs(interp, options.wild_values);
  if (!InvokeOk(interp, "first")) {
    interp.ResetState();
    return Reached::kPrepared;
  }
  const std::vector<uint8_t> first = CopyOutputs(interp);
  FillInputs(interp, options.wild_values);
  if (!InvokeOk(interp, "second")) {
    HWY_ABORT("second Invoke() failed on the inputs the first accepted");
  }
  CopyOutputs(interp);
  interp.ResetState();
  FillInputs(interp, options.wild_values);
  if (!InvokeOk(interp, "third")) {
    HWY_ABORT("Invoke() after ResetState() failed where the first succeeded");
  }
  if (CopyOutputs(interp) != first) {
    HWY_ABORT("outputs after ResetState() differ from the first Invoke()'s");
  }
  return Reached::kInvoked;
}

}  // namespace

const char* ReachedName(Reached r) {
  switch (r) {
    case Reached::kRejected:
      return "rejected";
    case Reached::kLoaded:
      return "loaded";
    case Reached::kPrepared:
      return "prepared";
    case Reached::kInvoked:
      return "invoked";
  }
  return "?";
}

FuzzOptions OptionsFromInput(const uint8_t* data, size_t size) {
  FuzzOptions o;
  if (size == 0) return o;
  const uint8_t bits = data[size - 1];
  o.copy = (bits & 1) != 0;
  o.fuse = (bits & 2) == 0;
  o.fast = (bits & 4) != 0;
  o.odd_arena = (bits & 8) != 0;
  o.wild_values = (bits & 16) != 0;
  return o;
}

Reached RunModelInput(const uint8_t* data, size_t size,
                      const FuzzOptions& options) {
  InputCopy aligned(data, size, /*aligned=*/true);
  StatusOr<Model> borrowed = Model::FromBuffer(aligned.bytes(), size);
  if (borrowed.ok()) {
    HWY_ASSERT(borrowed->storage() == Model::Storage::kBorrowed);
    HWY_ASSERT(borrowed->data() == aligned.bytes());
    CheckLoadedModel(*borrowed);
  }
  if (!options.copy) {
    if (!borrowed.ok()) return Reached::kRejected;
    return PrepareAndInvoke(*borrowed, options);
  }
  StatusOr<Model> copied = [&] {
    // The caller's bytes are no longer needed once FromBuffer copied them.
    InputCopy unaligned(data, size, /*aligned=*/false);
    return Model::FromBuffer(unaligned.bytes(), size);
  }();
  CheckSameLoad(borrowed, copied);
  if (!copied.ok()) return Reached::kRejected;
  HWY_ASSERT(copied->storage() == Model::Storage::kCopied);
  CheckLoadedModel(*copied);
  return PrepareAndInvoke(*copied, options);
}

}  // namespace fuzz
}  // namespace sparrow

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sparrow::fuzz::RunModelInput(data, size,
                               sparrow::fuzz::OptionsFromInput(data, size));
  return 0;
}
