// Tests for runtime/model.h and runtime/model_builder.h: round trips of
// several models, zero copy and the aligned copy, mmap, moves, truncation at
// every length and corrupted bytes. The malformed model of every validation
// rule is in model_malformed_test.cc.
#include "runtime/model.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/bf16.h"
#include "kernels/block_sparse.h"
#include "runtime/model_builder.h"
#include "runtime/model_test_models.h"
#include "runtime/model_test_util.h"

namespace sparrow {
namespace {

using schema::DType;
using schema::OpType;

// Loads `b`'s bytes from an aligned copy and checks that everything the
// builder was given comes back: the whole table (UnPack, operator==) and the
// accessors (tensors, weights, sparse views, ops, inputs, outputs).
void ExpectRoundTrip(const ModelBuilder& b) {
  const std::vector<uint8_t> bytes = b.Finish();
  AlignedBuffer buf(bytes);
  StatusOr<Model> loaded = Model::FromBuffer(buf.data(), buf.size());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Model& m = *loaded;
  EXPECT_EQ(m.storage(), Model::Storage::kBorrowed);
  EXPECT_EQ(m.data(), buf.data());

  // The whole table: what was built, with the offsets and sizes Finish set.
  std::unique_ptr<schema::ModelT> got(m.root()->UnPack());
  schema::ModelT want(b.model());
  ASSERT_EQ(got->buffers.size(), want.buffers.size());
  for (size_t i = 0; i < want.buffers.size(); ++i) {
    EXPECT_EQ(got->buffers[i]->offset % kModelAlignment, 0u);
    want.buffers[i]->offset = got->buffers[i]->offset;
    want.buffers[i]->size = b.buffer_bytes(i).size();
  }
  EXPECT_TRUE(*got == want);

  EXPECT_EQ(m.version(), kModelFormatVersion);
  EXPECT_STREQ(m.description(), want.description.c_str());
  ASSERT_EQ(m.num_tensors(), want.tensors.size());
  for (size_t i = 0; i < m.num_tensors(); ++i) {
    SCOPED_TRACE("tensor " + std::to_string(i));
    const TensorInfo& t = m.tensor(i);
    const schema::TensorT& w = *want.tensors[i];
    EXPECT_STREQ(t.name, w.name.c_str());
    EXPECT_EQ(std::vector<int32_t>(t.shape.begin(), t.shape.end()), w.shape);
    EXPECT_EQ(t.dtype, w.dtype);
    EXPECT_EQ(t.buffer, w.buffer);
    EXPECT_EQ(t.is_variable, w.is_variable);
    size_t elements = 1;
    for (int32_t d : w.shape) elements *= static_cast<size_t>(d);
    EXPECT_EQ(t.num_elements, elements);
    EXPECT_EQ(t.bytes, elements * DTypeSize(w.dtype));
    EXPECT_EQ(t.quantization != nullptr, w.quantization != nullptr);
    if (t.buffer < 0) {
      EXPECT_EQ(m.TensorData(i), nullptr);
      EXPECT_EQ(m.SparseWeights(i), nullptr);
      continue;
    }
    const std::vector<uint8_t>& raw =
        b.buffer_bytes(static_cast<size_t>(t.buffer));
    const BufferInfo& info = m.buffer(static_cast<size_t>(t.buffer));
    EXPECT_TRUE(buf.Contains(info.data));  // zero copy
    EXPECT_EQ(reinterpret_cast<uintptr_t>(info.data) % kModelAlignment, 0u);
    ASSERT_EQ(info.size, raw.size());
    EXPECT_EQ(memcmp(info.data, raw.data(), raw.size()), 0);
    if (info.layout == schema::BufferLayout::Dense) {
      EXPECT_EQ(m.TensorData(i), info.data);
      EXPECT_EQ(m.SparseWeights(i), nullptr);
    } else {
      EXPECT_EQ(m.TensorData(i), nullptr);
      const BlockSparseView* v = m.SparseWeights(i);
      ASSERT_NE(v, nullptr);
      EXPECT_TRUE(Validate(*v).ok());
      EXPECT_EQ(v->rows, static_cast<size_t>(w.shape[0]));
      EXPECT_EQ(v->cols, static_cast<size_t>(w.shape[1]));
    }
  }
  ASSERT_EQ(m.num_ops(), want.ops.size());
  for (size_t i = 0; i < m.num_ops(); ++i) {
    const OpInfo& op = m.op(i);
    EXPECT_EQ(op.type, want.ops[i]->type);
    EXPECT_EQ(std::vector<int32_t>(op.inputs.begin(), op.inputs.end()),
              want.ops[i]->inputs);
    EXPECT_EQ(std::vector<int32_t>(op.outputs.begin(), op.outputs.end()),
              want.ops[i]->outputs);
    EXPECT_EQ(op.table->options_type(), want.ops[i]->options.type);
  }
  EXPECT_EQ(std::vector<int32_t>(m.inputs().begin(), m.inputs().end()),
            want.inputs);
  EXPECT_EQ(std::vector<int32_t>(m.outputs().begin(), m.outputs().end()),
            want.outputs);
}

TEST(ModelRoundTrip, DenseF32Mlp) { ExpectRoundTrip(test_models::TinyMlp()); }
TEST(ModelRoundTrip, Bf16Mlp) { ExpectRoundTrip(test_models::TinyMlp(true)); }
TEST(ModelRoundTrip, SparseGru) { ExpectRoundTrip(test_models::TinySparseGru()); }
TEST(ModelRoundTrip, GruSequence) { ExpectRoundTrip(test_models::GruSequence()); }
TEST(ModelRoundTrip, SparseFc) { ExpectRoundTrip(test_models::SparseFc()); }
TEST(ModelRoundTrip, ConvNet) { ExpectRoundTrip(test_models::ConvNet()); }
TEST(ModelRoundTrip, Misc) { ExpectRoundTrip(test_models::Misc()); }

TEST(ModelRoundTrip, Bf16WeightsAreRoundedValues) {
  const std::vector<uint8_t> bytes = test_models::TinyMlp(true).Finish();
  AlignedBuffer buf(bytes);
  StatusOr<Model> m = Model::FromBuffer(buf.data(), buf.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const TensorInfo& w = m->tensor(1);
  EXPECT_EQ(w.dtype, DType::BF16);
  EXPECT_EQ(w.bytes, 16u * 8u * 2u);
  const std::vector<float> want = test_models::Values(16 * 8, 1);
  const uint16_t* bits = static_cast<const uint16_t*>(m->TensorData(1));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(Bf16BitsToF32(bits[i]), want[i]) << i;  // k/64: exact in bf16
  }
}

// The view read from the file gives back the matrix's weights.
TEST(ModelRoundTrip, SparseViewReadsTheMatrix) {
  const std::vector<float> w = test_models::Values(32 * 16, 31);
  const std::vector<uint8_t> bytes = test_models::SparseFc().Finish();
  AlignedBuffer buf(bytes);
  StatusOr<Model> m = Model::FromBuffer(buf.data(), buf.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const BlockSparseView* v = m->SparseWeights(1);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dtype, BlockDType::kF32);
  EXPECT_EQ(v->num_blocks, 5u);
  const uint32_t want_cols[5] = {1, 4, 9, 0, 15};
  for (size_t k = 0; k < 5; ++k) EXPECT_EQ(v->col_indices[k], want_cols[k]);
  for (size_t i = 0; i < 2; ++i) {
    for (size_t k = 0; k < v->Count(i); ++k) {
      const size_t col = v->col_indices[v->block_offsets[i] + k];
      for (size_t r = 0; r < 16; ++r) {
        EXPECT_EQ(BlockWeight(*v, i, k, r), w[(16 * i + r) * 16 + col]);
      }
    }
  }
}

TEST(ModelRoundTrip, AttributesAndQuantization) {
  const std::vector<uint8_t> conv_bytes = test_models::ConvNet().Finish();
  AlignedBuffer conv_buf(conv_bytes);
  StatusOr<Model> conv = Model::FromBuffer(conv_buf.data(), conv_buf.size());
  ASSERT_TRUE(conv.ok()) << conv.status().ToString();
  const schema::Conv2DOptions* c = conv->op(0).table->options_as_Conv2DOptions();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->pad_left(), 1);
  EXPECT_EQ(c->stride_h(), 1);
  EXPECT_EQ(c->activation(), schema::ActivationType::Relu);
  const schema::Pool2DOptions* avg = conv->op(2).table->options_as_Pool2DOptions();
  ASSERT_NE(avg, nullptr);
  EXPECT_EQ(avg->filter_h(), 3);
  EXPECT_FALSE(avg->count_include_pad());

  const std::vector<uint8_t> misc_bytes = test_models::Misc().Finish();
  AlignedBuffer misc_buf(misc_bytes);
  StatusOr<Model> misc = Model::FromBuffer(misc_buf.data(), misc_buf.size());
  ASSERT_TRUE(misc.ok()) << misc.status().ToString();
  const TensorInfo& q = misc->tensor(11);
  EXPECT_EQ(q.dtype, DType::INT8);
  ASSERT_NE(q.quantization, nullptr);
  ASSERT_NE(q.quantization->scale(), nullptr);
  EXPECT_EQ(q.quantization->scale()->size(), 4u);
  EXPECT_EQ(q.quantization->scale()->Get(2), 0.125f);
  EXPECT_EQ(q.quantization->zero_point()->Get(3), 127);
  EXPECT_EQ(q.quantization->bit_width()->Get(1), 4);
  EXPECT_EQ(static_cast<const int8_t*>(misc->TensorData(11))[0], -128);
}

TEST(ModelBuilder, LayoutIsAlignedDeterministicAndTight) {
  const ModelBuilder b = test_models::TinySparseGru();
  const std::vector<uint8_t> bytes = b.Finish();
  EXPECT_EQ(bytes, b.Finish());
  AlignedBuffer buf(bytes);
  StatusOr<Model> m = Model::FromBuffer(buf.data(), buf.size());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  uint32_t prefix;
  memcpy(&prefix, bytes.data(), 4);
  const size_t data_start = (4 + prefix + 63) / 64 * 64;
  size_t end = data_start;
  for (size_t i = 0; i < m->num_buffers(); ++i) {
    const size_t offset = static_cast<size_t>(m->buffer(i).data - buf.data());
    EXPECT_EQ(offset, (end + 63) / 64 * 64) << "buffer " << i;
    for (size_t k = end; k < offset; ++k) EXPECT_EQ(bytes[k], 0) << k;
    end = offset + m->buffer(i).size;
  }
  EXPECT_EQ(end, bytes.size());  // the last buffer ends the file
  EXPECT_EQ(memcmp(bytes.data() + 8, "SPRW", 4), 0);
}

TEST(ModelLoad, UnalignedBufferIsCopiedOnce) {
  const std::vector<uint8_t> bytes = test_models::TinyMlp().Finish();
  for (size_t misalign : {1, 4, 8, 16, 32, 63}) {
    SCOPED_TRACE(misalign);
    auto buf = std::make_unique<AlignedBuffer>(bytes, misalign);
    StatusOr<Model> m = Model::FromBuffer(buf->data(), buf->size());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->storage(), Model::Storage::kCopied);
    const void* w = m->TensorData(1);
    EXPECT_FALSE(buf->Contains(w));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(w) % kModelAlignment, 0u);
    buf.reset();  // the caller's bytes are no longer needed
    const std::vector<float> want = test_models::Values(16 * 8, 1);
    EXPECT_EQ(memcmp(w, want.data(), want.size() * sizeof(float)), 0);
    EXPECT_STREQ(m->tensor(1).name, "fc1.weight");
  }
}

TEST(ModelLoad, NullAndEmpty) {
  StatusOr<Model> null = Model::FromBuffer(nullptr, 5);
  ASSERT_FALSE(null.ok());
  EXPECT_EQ(null.status().code(), StatusCode::kInvalidArgument);
  StatusOr<Model> empty = Model::FromBuffer(nullptr, 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(empty.status().message()).find("file is 0 bytes"),
            std::string::npos);
}

TEST(ModelLoad, FromFileMapsAndMoves) {
  const std::string path = TempPath("mlp.spw");
  const ModelBuilder b = test_models::TinySparseGru();
  ASSERT_TRUE(b.WriteFile(path.c_str()).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), b.Finish().size());
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  StatusOr<Model> m = Model::FromFile(path.c_str());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->storage(), Model::Storage::kMapped);
  EXPECT_EQ(memcmp(m->data(), b.Finish().data(), m->size()), 0);
  const BlockSparseView* view = m->SparseWeights(1);
  const TensorInfo* head = &m->tensor(7);
  const void* head_data = m->TensorData(7);
  ASSERT_NE(view, nullptr);

  // Moves keep every pointer handed out.
  Model moved = std::move(m).value();
  EXPECT_EQ(moved.SparseWeights(1), view);
  EXPECT_EQ(&moved.tensor(7), head);
  EXPECT_EQ(moved.TensorData(7), head_data);
  Model assigned = std::move(moved);
  assigned = std::move(assigned);  // self-move keeps the model
  EXPECT_EQ(assigned.TensorData(7), head_data);
  EXPECT_TRUE(Validate(*assigned.SparseWeights(2)).ok());
  EXPECT_EQ(assigned.FindTensor("gru.h"), 5);
  EXPECT_EQ(assigned.FindTensor("nope"), -1);
  EXPECT_EQ(assigned.FindTensor(""), -1);
  const std::vector<float> head_w = test_models::Values(8 * 32, 15);
  EXPECT_EQ(memcmp(assigned.TensorData(7), head_w.data(), head_w.size() * 4), 0);
}

TEST(ModelLoad, FromFileErrors) {
  StatusOr<Model> missing = Model::FromFile(TempPath("does_not_exist.spw").c_str());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("does_not_exist.spw"),
            std::string::npos);

  StatusOr<Model> dir = Model::FromFile(TempPath("").c_str());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);

  const std::string empty = TempPath("empty.spw");
  FILE* f = fopen(empty.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fclose(f);
  StatusOr<Model> e = Model::FromFile(empty.c_str());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(std::string(e.status().message()).find("empty.spw: file is 0 bytes"),
            std::string::npos)
      << e.status().message();

  EXPECT_EQ(Model::FromFile(nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ModelBuilder, WriteFileLeavesNoTemporary) {
  const std::string dir = TempPath("write_dir");
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/m.spw";
  ASSERT_TRUE(test_models::TinyMlp().WriteFile(path.c_str()).ok());
  ASSERT_TRUE(test_models::ConvNet().WriteFile(path.c_str()).ok());  // replace
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  closedir(d);
  EXPECT_EQ(names, std::vector<std::string>{"m.spw"});
  StatusOr<Model> m = Model::FromFile(path.c_str());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->op(0).type, OpType::Conv2D);

  const Status bad = test_models::TinyMlp().WriteFile(
      TempPath("no_such_dir/m.spw").c_str());
  EXPECT_FALSE(bad.ok());
}

// Every prefix of a valid file is DataLoss, read from an exactly sized
// allocation (so ASan catches any read past it), aligned and not.
TEST(ModelLoad, TruncatedAtEveryLength) {
  for (const ModelBuilder& b :
       {test_models::TinyMlp(), test_models::TinySparseGru()}) {
    const std::vector<uint8_t> bytes = b.Finish();
    for (size_t misalign : {0, 3}) {
      for (size_t n = 0; n < bytes.size(); ++n) {
        AlignedBuffer buf(bytes.data(), n, misalign);
        StatusOr<Model> m = Model::FromBuffer(buf.data(), n);
        ASSERT_FALSE(m.ok()) << "length " << n;
        ASSERT_EQ(m.status().code(), StatusCode::kDataLoss)
            << "length " << n << ": " << m.status().ToString();
      }
    }
    AlignedBuffer whole(bytes);
    EXPECT_TRUE(Model::FromBuffer(whole.data(), whole.size()).ok());
  }
}

// Reads everything a loaded model offers, as later code would.
void TouchEverything(const Model& m, const AlignedBuffer& buf) {
  for (size_t i = 0; i < m.num_tensors(); ++i) {
    const TensorInfo& t = m.tensor(i);
    for (int32_t d : t.shape) ASSERT_GE(d, 0);
    if (const void* p = m.TensorData(i)) {
      ASSERT_TRUE(buf.Contains(p));
      ASSERT_LE(static_cast<const uint8_t*>(p) + t.bytes, buf.data() + buf.size());
      volatile uint8_t sink = 0;
      for (size_t k = 0; k < t.bytes; ++k) sink ^= static_cast<const uint8_t*>(p)[k];
      (void)sink;
    }
    if (const BlockSparseView* v = m.SparseWeights(i)) {
      ASSERT_TRUE(Validate(*v).ok());
      for (size_t r = 0; r < v->BlockRows(); ++r) {
        for (size_t k = 0; k < v->Count(r); ++k) (void)BlockWeight(*v, r, k, 15);
      }
    }
  }
  for (size_t i = 0; i < m.num_ops(); ++i) {
    for (int32_t t : m.op(i).inputs) ASSERT_LT(t, static_cast<int32_t>(m.num_tensors()));
    for (int32_t t : m.op(i).outputs) {
      ASSERT_GE(t, 0);
      ASSERT_LT(t, static_cast<int32_t>(m.num_tensors()));
    }
  }
}

// Every byte of the FlatBuffer part, changed four ways: loading never crashes
// or reads out of bounds, and whatever loads is fully consistent.
TEST(ModelLoad, CorruptedBytes) {
  for (const ModelBuilder& b :
       {test_models::TinyMlp(), test_models::TinySparseGru()}) {
    const std::vector<uint8_t> bytes = b.Finish();
    uint32_t prefix;
    memcpy(&prefix, bytes.data(), 4);
    size_t loaded = 0, rejected = 0;
    for (size_t pos = 0; pos < 4 + prefix; ++pos) {
      const uint8_t old = bytes[pos];
      for (uint8_t v : {uint8_t{0}, uint8_t{0xFF}, static_cast<uint8_t>(old ^ 1),
                        static_cast<uint8_t>(old ^ 0x80)}) {
        if (v == old) continue;
        AlignedBuffer buf(bytes);
        buf.data()[pos] = v;
        StatusOr<Model> m = Model::FromBuffer(buf.data(), buf.size());
        if (m.ok()) {
          ++loaded;
          TouchEverything(*m, buf);
        } else {
          ++rejected;
          ASSERT_NE(m.status().message()[0], '\0');
        }
      }
    }
    // Most single-byte changes to the table are caught (the rest hit values
    // that stay valid, such as weights names or unused padding).
    EXPECT_GT(rejected, loaded);
  }
}

}  // namespace
}  // namespace sparrow
