// Model validation: header, buffers, tensors, model inputs/outputs and the
// graph. Per-op rules are in model_ops.cc. Rule ids (H1, B3, ...) are those of
// docs/FORMAT.md.
#include "runtime/model_validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <utility>

#include "flatbuffers/flatbuffers.h"

namespace sparrow {
namespace model_internal {
namespace {

using ull = unsigned long long;

constexpr size_t kHeaderBytes = 12;  // size prefix, root offset, identifier

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Bits of a dtype's storage, for Q6.
uint32_t DTypeBits(schema::DType t) {
  switch (t) {
    case schema::DType::F32:
    case schema::DType::I32:
      return 32;
    case schema::DType::BF16:
      return 16;
    case schema::DType::INT8:
      return 8;
    case schema::DType::INT4:
      return 4;
    case schema::DType::INT2:
      return 2;
  }
  return 0;
}

Status ValidateSparseBuffer(ParsedModel* m, size_t i, const schema::Buffer* b,
                            BufferInfo* info) {
  const schema::BlockSparse16x1Layout* s = b->sparse();
  // B6.
  const schema::DType dt = s->dtype();
  BlockDType block_dtype;
  if (dt == schema::DType::F32) {
    block_dtype = BlockDType::kF32;
  } else if (dt == schema::DType::BF16) {
    block_dtype = BlockDType::kBf16;
  } else if (dt == schema::DType::INT8) {
    return Unimplemented(
        "buffer %zu: sparse.dtype=int8 is reserved for quantization; this "
        "reader supports f32 and bf16 blocks",
        i);
  } else {
    return InvalidArgument("buffer %zu: sparse.dtype=%s, want f32 or bf16", i,
                           DTypeName(dt));
  }
  // B7, B8: the four sections, in order, inside the buffer.
  const uint64_t num_offsets = (uint64_t{s->rows()} + 15) / 16 + 1;
  struct Section {
    const char* field;
    uint64_t offset, bytes, align;
  };
  const Section sections[4] = {
      {"block_offsets_offset", s->block_offsets_offset(), num_offsets * 4, 4},
      {"data_offsets_offset", s->data_offsets_offset(), num_offsets * 4, 4},
      {"col_indices_offset", s->col_indices_offset(),
       uint64_t{s->num_blocks()} * 4, 4},
      {"data_offset", s->data_offset(), s->data_size(), kSparseLineBytes},
  };
  const uint64_t size = b->size();
  uint64_t end = 0;
  for (const Section& sec : sections) {
    if (sec.offset % sec.align != 0) {
      return InvalidArgument("buffer %zu: sparse.%s=%llu is not a multiple of %llu",
                             i, sec.field, static_cast<ull>(sec.offset),
                             static_cast<ull>(sec.align));
    }
    if (sec.offset < end) {
      return InvalidArgument(
          "buffer %zu: sparse.%s=%llu overlaps the section before it, which "
          "ends at %llu (sections are in order, without overlap)",
          i, sec.field, static_cast<ull>(sec.offset), static_cast<ull>(end));
    }
    if (sec.offset > size || sec.bytes > size - sec.offset) {
      return OutOfRange(
          "buffer %zu: sparse.%s=%llu + %llu bytes ends past the buffer's "
          "size=%llu",
          i, sec.field, static_cast<ull>(sec.offset),
          static_cast<ull>(sec.bytes), static_cast<ull>(size));
    }
    end = sec.offset + sec.bytes;
  }
  if (end != size) {
    return InvalidArgument(
        "buffer %zu: sparse data section ends at %llu but size=%llu (the data "
        "section ends the buffer)",
        i, static_cast<ull>(end), static_cast<ull>(size));
  }
  // B9: the kernels' own rules, on the view the kernels will get.
  BlockSparseView& v = info->sparse;
  v.dtype = block_dtype;
  v.rows = s->rows();
  v.cols = s->cols();
  v.num_offsets = static_cast<size_t>(num_offsets);
  v.block_offsets =
      reinterpret_cast<const uint32_t*>(info->data + s->block_offsets_offset());
  v.data_offsets =
      reinterpret_cast<const uint32_t*>(info->data + s->data_offsets_offset());
  v.col_indices =
      reinterpret_cast<const uint32_t*>(info->data + s->col_indices_offset());
  v.num_blocks = s->num_blocks();
  v.data = info->data + s->data_offset();
  v.data_bytes = static_cast<size_t>(s->data_size());
  const Status st = Validate(v);
  if (!st.ok()) {
    return Status(st.code(), "buffer " + std::to_string(i) + " (block-sparse " +
                                 DTypeName(dt) + " [" +
                                 std::to_string(s->rows()) + "," +
                                 std::to_string(s->cols()) +
                                 "]): " + st.message());
  }
  // B10: no slack after the last line.
  const uint64_t need =
      uint64_t{v.data_offsets[v.num_offsets - 1]} * kSparseLineBytes;
  if (need != s->data_size()) {
    return InvalidArgument(
        "buffer %zu: sparse.data_size=%llu, but data_offsets[%zu]=%u lines "
        "hold %llu bytes",
        i, static_cast<ull>(s->data_size()), v.num_offsets - 1,
        v.data_offsets[v.num_offsets - 1], static_cast<ull>(need));
  }
  (void)m;
  return OkStatus();
}

Status ValidateQuantization(const ParsedModel& m, int32_t ti,
                            const schema::Tensor* t, const TensorInfo& info) {
  const std::string ref = TensorRef(m, ti);
  const schema::Quantization* q = t->quantization();
  const auto* scale = q ? q->scale() : nullptr;
  const auto* zero = q ? q->zero_point() : nullptr;
  const auto* bits = q ? q->bit_width() : nullptr;
  const size_t n_scale = scale ? scale->size() : 0;
  const size_t n_zero = zero ? zero->size() : 0;
  const size_t n_bits = bits ? bits->size() : 0;
  const schema::DType dt = info.dtype;
  // Q1.
  if (dt == schema::DType::INT8 && n_scale == 0) {
    return InvalidArgument("%s: dtype=int8 needs quantization.scale",
                           ref.c_str());
  }
  if ((dt == schema::DType::F32 || dt == schema::DType::BF16) &&
      (n_scale != 0 || n_zero != 0)) {
    return InvalidArgument(
        "%s: dtype=%s cannot have quantization.scale or zero_point (only "
        "integer tensors are quantized)",
        ref.c_str(), DTypeName(dt));
  }
  // Q2, Q3.
  size_t channels = 1;
  if (n_scale > 1 || n_bits > 1) {
    const int32_t axis = q->axis();
    if (axis < 0 || static_cast<size_t>(axis) >= info.rank()) {
      return OutOfRange(
          "%s: quantization.axis=%d is outside [0, %zu) for shape %s",
          ref.c_str(), axis, info.rank(), ShapeString(info.shape).c_str());
    }
    channels = static_cast<size_t>(info.shape[axis]);
  }
  if (n_scale > 1 && n_scale != channels) {
    return InvalidArgument(
        "%s: quantization.scale has %zu entries, want 1 or shape[%d]=%zu",
        ref.c_str(), n_scale, q->axis(), channels);
  }
  if (n_zero != 0 && n_zero != n_scale) {
    return InvalidArgument(
        "%s: quantization.zero_point has %zu entries, want 0 or %zu (as "
        "scale)",
        ref.c_str(), n_zero, n_scale);
  }
  if (n_bits > 1 && n_bits != channels) {
    return InvalidArgument(
        "%s: quantization.bit_width has %zu entries, want 0, 1 or "
        "shape[%d]=%zu",
        ref.c_str(), n_bits, q->axis(), channels);
  }
  // Q4.
  for (size_t k = 0; k < n_scale; ++k) {
    const float s = scale->Get(static_cast<flatbuffers::uoffset_t>(k));
    if (!(isfinite(s) && s > 0.0f)) {
      return InvalidArgument(
          "%s: quantization.scale[%zu]=%g must be finite and > 0", ref.c_str(),
          k, static_cast<double>(s));
    }
  }
  // Q5.
  if (dt == schema::DType::INT8) {
    for (size_t k = 0; k < n_zero; ++k) {
      const int32_t z = zero->Get(static_cast<flatbuffers::uoffset_t>(k));
      if (z < -128 || z > 127) {
        return OutOfRange(
            "%s: quantization.zero_point[%zu]=%d is outside int8's "
            "[-128, 127]",
            ref.c_str(), k, z);
      }
    }
  }
  // Q6.
  const uint32_t max_bits = DTypeBits(dt);
  for (size_t k = 0; k < n_bits; ++k) {
    const uint32_t b = bits->Get(static_cast<flatbuffers::uoffset_t>(k));
    const bool allowed =
        b == 0 || b == 2 || b == 4 || b == 8 || b == 16 || b == 32;
    if (!allowed || b > max_bits) {
      return InvalidArgument(
          "%s: quantization.bit_width[%zu]=%u, want 0, 2, 4, 8, 16 or 32 and "
          "at most %u for %s",
          ref.c_str(), k, b, max_bits, DTypeName(dt));
    }
  }
  return OkStatus();
}

}  // namespace

std::string Quoted(const char* name) {
  constexpr size_t kMaxShown = 48;
  std::string out = "'";
  size_t n = 0;
  for (const char* p = name; *p != '\0'; ++p, ++n) {
    if (n == kMaxShown) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

std::string TensorRef(const ParsedModel& m, int32_t t) {
  std::string s = "tensor " + std::to_string(t);
  if (t >= 0 && static_cast<size_t>(t) < m.tensors.size()) {
    s += " " + Quoted(m.tensors[t].name);
  }
  return s;
}

std::string OpRef(const ParsedModel& m, size_t op) {
  return "op " + std::to_string(op) + " (" +
         OpTypeName(m.root->ops()->Get(static_cast<flatbuffers::uoffset_t>(op))
                        ->type()) +
         ")";
}

std::string ShapeString(Span<const int32_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Status ValidateHeader(ParsedModel* m) {
  const uint8_t* d = m->data;
  // H1.
  if (m->size < kHeaderBytes) {
    return DataLoss(
        "file is %zu bytes, shorter than the %zu-byte header (size prefix, "
        "root offset, identifier)",
        m->size, kHeaderBytes);
  }
  // H2 before H3, so that a file of another kind is named as such.
  if (memcmp(d + 8, schema::ModelIdentifier(), 4) != 0) {
    char id[5] = {0};
    memcpy(id, d + 8, 4);
    for (char& c : id) {
      if (c != '\0' && (c < 0x20 || c >= 0x7F)) c = '?';
    }
    return InvalidArgument(
        "file identifier (bytes 8..11) is '%s', want 'SPRW': not a Sparrow "
        "model",
        id);
  }
  // H3.
  uint32_t prefix;
  memcpy(&prefix, d, sizeof(prefix));
  const uint64_t fb_end = uint64_t{4} + prefix;
  if (fb_end > m->size) {
    return DataLoss(
        "size prefix says the FlatBuffer has %u bytes, but the file has only "
        "%zu after the prefix: truncated",
        prefix, m->size - 4);
  }
  if (fb_end >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return DataLoss("size prefix=%u exceeds the 2 GiB FlatBuffer limit",
                    prefix);
  }
  // H4.
  flatbuffers::Verifier::Options options;
  options.max_depth = kMaxTableDepth;
  options.max_tables = kMaxTables;
  options.check_alignment = true;
  flatbuffers::Verifier verifier(d, static_cast<size_t>(fb_end), options);
  if (!schema::VerifySizePrefixedModelBuffer(verifier)) {
    return DataLoss(
        "the FlatBuffer (bytes [0, %llu)) fails verification: corrupt, "
        "truncated, or over the limits (table depth %u, %u tables)",
        static_cast<ull>(fb_end), kMaxTableDepth, kMaxTables);
  }
  m->root = schema::GetSizePrefixedModel(d);
  m->data_section = AlignUp(fb_end, kModelAlignment);
  // H5.
  const uint32_t version = m->root->version();
  if (version == 0) {
    return InvalidArgument("version=0 is invalid: versions start at 1");
  }
  if (version > kModelFormatVersion) {
    return Unimplemented(
        "version=%u is newer than this reader, which reads versions 1..%u",
        version, kModelFormatVersion);
  }
  return OkStatus();
}

Status ValidateBuffers(ParsedModel* m) {
  const auto* buffers = m->root->buffers();
  const size_t n = buffers ? buffers->size() : 0;
  m->buffers.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const schema::Buffer* b = buffers->Get(static_cast<flatbuffers::uoffset_t>(i));
    const uint64_t offset = b->offset(), size = b->size();
    // B1.
    if (offset % kModelAlignment != 0) {
      return InvalidArgument("buffer %zu: offset=%llu is not a multiple of %zu",
                             i, static_cast<ull>(offset), kModelAlignment);
    }
    // B2.
    if (offset < m->data_section) {
      return OutOfRange(
          "buffer %zu: offset=%llu lies inside the FlatBuffer (the data "
          "section starts at %llu)",
          i, static_cast<ull>(offset), static_cast<ull>(m->data_section));
    }
    // B3.
    if (offset > m->size || size > m->size - offset) {
      return DataLoss(
          "buffer %zu: offset=%llu size=%llu ends past the end of the file "
          "(%zu bytes): truncated?",
          i, static_cast<ull>(offset), static_cast<ull>(size), m->size);
    }
    BufferInfo& info = m->buffers[i];
    info.layout = b->layout();
    info.data = m->data + offset;
    info.size = static_cast<size_t>(size);
    // B4, B5.
    switch (b->layout()) {
      case schema::BufferLayout::Dense:
        if (b->sparse() != nullptr) {
          return InvalidArgument(
              "buffer %zu: layout=Dense but it has a sparse table", i);
        }
        break;
      case schema::BufferLayout::BlockSparse16x1:
        if (b->sparse() == nullptr) {
          return InvalidArgument(
              "buffer %zu: layout=BlockSparse16x1 but sparse is missing", i);
        }
        SPARROW_RETURN_IF_ERROR(ValidateSparseBuffer(m, i, b, &info));
        break;
      default:
        return InvalidArgument("buffer %zu: layout=%u is not a BufferLayout",
                               i, static_cast<unsigned>(b->layout()));
    }
  }
  return OkStatus();
}

Status ValidateTensors(ParsedModel* m) {
  const auto* tensors = m->root->tensors();
  const size_t n = tensors ? tensors->size() : 0;
  m->tensors.resize(n);
  // Names first, so that messages about any tensor can name it.
  for (size_t i = 0; i < n; ++i) {
    const schema::Tensor* t = tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (t->name() != nullptr) m->tensors[i].name = t->name()->c_str();
  }
  for (size_t i = 0; i < n; ++i) {
    const int32_t ti = static_cast<int32_t>(i);
    const schema::Tensor* t = tensors->Get(static_cast<flatbuffers::uoffset_t>(i));
    TensorInfo& info = m->tensors[i];
    const std::string ref = TensorRef(*m, ti);
    // T1.
    info.dtype = t->dtype();
    if (info.dtype > schema::DType::MAX) {
      return InvalidArgument("%s: dtype=%u is not a DType", ref.c_str(),
                             static_cast<unsigned>(info.dtype));
    }
    if (info.dtype == schema::DType::INT4 || info.dtype == schema::DType::INT2) {
      return Unimplemented(
          "%s: dtype=%s is reserved for quantization; this reader does not "
          "support it",
          ref.c_str(), DTypeName(info.dtype));
    }
    // T2.
    if (t->shape() != nullptr) {
      info.shape = Span<const int32_t>(t->shape()->data(), t->shape()->size());
    }
    if (info.rank() > kMaxTensorRank) {
      return OutOfRange("%s: rank=%zu exceeds %zu", ref.c_str(), info.rank(),
                        kMaxTensorRank);
    }
    // T3, T4.
    bool empty = false;
    for (size_t a = 0; a < info.rank(); ++a) {
      const int32_t d = info.shape[a];
      empty |= d == 0;
      if (d < 0) {
        return InvalidArgument("%s: shape %s has dim %d < 0 at axis %zu",
                               ref.c_str(), ShapeString(info.shape).c_str(), d,
                               a);
      }
    }
    uint64_t elements = empty ? 0 : 1;
    for (size_t a = 0; a < info.rank() && !empty; ++a) {
      // Each factor is < 2^31 and the product so far <= 2^48, so it cannot
      // wrap before the check.
      elements *= static_cast<uint64_t>(info.shape[a]);
      if (elements > kMaxTensorBytes) break;
    }
    const uint64_t bytes = elements * DTypeSize(info.dtype);
    if (elements > kMaxTensorBytes || bytes > kMaxTensorBytes) {
      return OutOfRange("%s: shape %s of %s exceeds 2^48 bytes", ref.c_str(),
                        ShapeString(info.shape).c_str(),
                        DTypeName(info.dtype));
    }
    info.num_elements = static_cast<size_t>(elements);
    info.bytes = static_cast<size_t>(bytes);
    info.is_variable = t->is_variable();
    info.quantization = t->quantization();
    // T5.
    const int32_t b = t->buffer();
    if (b < -1 || (b >= 0 && static_cast<size_t>(b) >= m->buffers.size())) {
      return OutOfRange("%s: buffer=%d, want -1 or an index below %zu",
                        ref.c_str(), b, m->buffers.size());
    }
    info.buffer = b;
    if (b >= 0) {
      const BufferInfo& buf = m->buffers[b];
      if (buf.layout == schema::BufferLayout::Dense) {
        // T6.
        if (buf.size != info.bytes) {
          return InvalidArgument(
              "%s: buffer %d has %zu bytes, but shape %s of %s needs %zu",
              ref.c_str(), b, buf.size, ShapeString(info.shape).c_str(),
              DTypeName(info.dtype), info.bytes);
        }
      } else {
        // T7.
        const BlockSparseView& v = buf.sparse;
        if (info.rank() != 2 || static_cast<size_t>(info.shape[0]) != v.rows ||
            static_cast<size_t>(info.shape[1]) != v.cols) {
          return InvalidArgument(
              "%s: shape %s does not match its block-sparse buffer %d "
              "[%zu,%zu]",
              ref.c_str(), ShapeString(info.shape).c_str(), b, v.rows, v.cols);
        }
        const schema::DType want = v.dtype == BlockDType::kBf16
                                       ? schema::DType::BF16
                                       : schema::DType::F32;
        if (info.dtype != want) {
          return InvalidArgument(
              "%s: dtype=%s but its block-sparse buffer %d holds %s",
              ref.c_str(), DTypeName(info.dtype), b, DTypeName(want));
        }
        if (info.is_variable) {
          return InvalidArgument(
              "%s: is_variable, but a state cannot have a block-sparse buffer "
              "(%d)",
              ref.c_str(), b);
        }
      }
    }
    // Q1-Q6.
    SPARROW_RETURN_IF_ERROR(ValidateQuantization(*m, ti, t, info));
  }
  // T8.
  std::vector<std::pair<const char*, int32_t>> names;
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (m->tensors[i].name[0] != '\0') {
      names.emplace_back(m->tensors[i].name, static_cast<int32_t>(i));
    }
  }
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) {
    const int c = strcmp(a.first, b.first);
    return c != 0 ? c < 0 : a.second < b.second;
  });
  for (size_t k = 1; k < names.size(); ++k) {
    if (strcmp(names[k - 1].first, names[k].first) == 0) {
      return InvalidArgument("tensor %d: name %s is already used by tensor %d",
                             names[k].second, Quoted(names[k].first).c_str(),
                             names[k - 1].second);
    }
  }
  return OkStatus();
}

Status ValidateInputs(ParsedModel* m) {
  const size_t n = m->tensors.size();
  m->is_input.assign(n, 0);
  const auto* inputs = m->root->inputs();
  if (inputs != nullptr) {
    m->inputs = Span<const int32_t>(inputs->data(), inputs->size());
  }
  for (size_t k = 0; k < m->inputs.size(); ++k) {
    const int32_t t = m->inputs[k];
    // I1.
    if (t < 0 || static_cast<size_t>(t) >= n) {
      return OutOfRange("model input %zu: tensor index %d, want 0..%zu", k, t,
                        n == 0 ? 0 : n - 1);
    }
    const TensorInfo& info = m->tensors[t];
    const std::string ref = TensorRef(*m, t);
    // I2.
    if (info.is_constant()) {
      return InvalidArgument(
          "model input %zu: %s is a constant (buffer %d); inputs are filled by "
          "the caller",
          k, ref.c_str(), info.buffer);
    }
    if (info.is_variable) {
      return InvalidArgument("model input %zu: %s is a state (is_variable)", k,
                             ref.c_str());
    }
    // I3.
    if (m->is_input[t]) {
      return InvalidArgument("model input %zu: %s is listed twice", k,
                             ref.c_str());
    }
    m->is_input[t] = 1;
  }
  return OkStatus();
}

Status ValidateGraph(ParsedModel* m) {
  const size_t n = m->tensors.size();
  // Which op wrote each tensor (-1: none), and which op owns each state.
  std::vector<int32_t> producer(n, -1), state_owner(n, -1);
  std::vector<uint8_t> available(n, 0);
  for (size_t t = 0; t < n; ++t) {
    const TensorInfo& info = m->tensors[t];
    available[t] = info.is_constant() || info.is_variable || m->is_input[t];
  }
  for (size_t i = 0; i < m->ops.size(); ++i) {
    const OpInfo& op = m->ops[i];
    const std::string ref = OpRef(*m, i);
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const int32_t t = op.inputs[k];
      if (t < 0) continue;  // an absent optional input (checked by O4)
      const TensorInfo& info = m->tensors[t];
      // G4.
      if (info.is_variable) {
        if (op.type != schema::OpType::Gru || k != 5) {
          return InvalidArgument(
              "%s: input %zu is state %s; only a Gru's state input (5) may be "
              "a state",
              ref.c_str(), k, TensorRef(*m, t).c_str());
        }
        if (state_owner[t] >= 0) {
          return InvalidArgument("%s: state %s is already used by op %d",
                                 ref.c_str(), TensorRef(*m, t).c_str(),
                                 state_owner[t]);
        }
        state_owner[t] = static_cast<int32_t>(i);
      }
      // G1.
      if (!available[t]) {
        return InvalidArgument(
            "%s: input %zu %s is used before any op produces it (ops must be "
            "in execution order, and the graph acyclic)",
            ref.c_str(), k, TensorRef(*m, t).c_str());
      }
    }
    for (size_t k = 0; k < op.outputs.size(); ++k) {
      const int32_t t = op.outputs[k];
      const TensorInfo& info = m->tensors[t];
      const std::string tref = TensorRef(*m, t);
      // G2.
      if (info.is_constant()) {
        return InvalidArgument(
            "%s: output %zu %s is a constant (buffer %d); ops cannot write "
            "constants",
            ref.c_str(), k, tref.c_str(), info.buffer);
      }
      if (m->is_input[t]) {
        return InvalidArgument("%s: output %zu %s is a model input",
                               ref.c_str(), k, tref.c_str());
      }
      if (info.is_variable) {
        return InvalidArgument(
            "%s: output %zu %s is a state; only the op owning it updates it",
            ref.c_str(), k, tref.c_str());
      }
      // G3.
      if (producer[t] >= 0) {
        return InvalidArgument("%s: output %zu %s is already produced by op %d",
                               ref.c_str(), k, tref.c_str(), producer[t]);
      }
      producer[t] = static_cast<int32_t>(i);
      available[t] = 1;
    }
  }
  // I4-I6.
  const auto* outputs = m->root->outputs();
  if (outputs != nullptr) {
    m->outputs = Span<const int32_t>(outputs->data(), outputs->size());
  }
  if (m->outputs.empty()) return InvalidArgument("the model has no outputs");
  std::vector<uint8_t> seen(n, 0);
  for (size_t k = 0; k < m->outputs.size(); ++k) {
    const int32_t t = m->outputs[k];
    if (t < 0 || static_cast<size_t>(t) >= n) {
      return OutOfRange("model output %zu: tensor index %d, want 0..%zu", k, t,
                        n == 0 ? 0 : n - 1);
    }
    if (seen[t]) {
      return InvalidArgument("model output %zu: %s is listed twice", k,
                             TensorRef(*m, t).c_str());
    }
    seen[t] = 1;
    if (producer[t] < 0 && !m->is_input[t]) {
      return InvalidArgument(
          "model output %zu: %s is neither produced by an op nor a model input",
          k, TensorRef(*m, t).c_str());
    }
  }
  return OkStatus();
}

Status ParseModel(const uint8_t* data, size_t size, ParsedModel* m) {
  m->data = data;
  m->size = size;
  SPARROW_RETURN_IF_ERROR(ValidateHeader(m));
  SPARROW_RETURN_IF_ERROR(ValidateBuffers(m));
  SPARROW_RETURN_IF_ERROR(ValidateTensors(m));
  SPARROW_RETURN_IF_ERROR(ValidateInputs(m));
  SPARROW_RETURN_IF_ERROR(ValidateOps(m));
  return ValidateGraph(m);
}

}  // namespace model_internal
}  // namespace sparrow
