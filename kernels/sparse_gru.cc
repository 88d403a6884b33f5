#include "kernels/sparse_gru.h"

#include <string>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/sparse_gru.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "kernels/sparse_gru-inl.h"

#if HWY_ONCE
namespace sparrow {

HWY_EXPORT(SparseGruStepImpl);

static Status CheckView(const char* name, const BlockSparseView& v,
                        size_t rows, const char* rows_what, size_t cols,
                        const char* cols_what) {
  if (v.dtype != BlockDType::kF32 && v.dtype != BlockDType::kBf16) {
    return InvalidArgument("%s.dtype=%s (%u), want f32 or bf16", name,
                           BlockDTypeName(v.dtype),
                           static_cast<unsigned>(v.dtype));
  }
  if (v.rows != rows) {
    return InvalidArgument("%s.rows=%zu, want %s = %zu", name, v.rows,
                           rows_what, rows);
  }
  if (v.cols != cols) {
    return InvalidArgument("%s.cols=%zu, want %s = %zu", name, v.cols,
                           cols_what, cols);
  }
  const Status s = Validate(v);
  if (!s.ok()) {
    return Status(s.code(), std::string(name) + ": " + s.message());
  }
  return OkStatus();
}

Status ValidateSparseGru(const SparseGruWeights& w) {
  if (w.hidden == 0 || w.hidden % kSparseBlockRows != 0) {
    return InvalidArgument(
        "hidden=%zu must be a positive multiple of 16 (each gate's rows "
        "start on a block-row)",
        w.hidden);
  }
  // Guards 3 * hidden below; the views' own limit is 2^31 rows.
  if (w.hidden >= (size_t{1} << 29)) {
    return OutOfRange("hidden=%zu must be < 2^29", w.hidden);
  }
  SPARROW_RETURN_IF_ERROR(CheckView("w_ih", w.w_ih, 3 * w.hidden,
                                    "3 * hidden", w.input, "input"));
  SPARROW_RETURN_IF_ERROR(CheckView("w_hh", w.w_hh, 3 * w.hidden,
                                    "3 * hidden", w.hidden, "hidden"));
  return OkStatus();
}

void SparseGruStep(const SparseGruWeights& w, const float* HWY_RESTRICT x,
                   const float* HWY_RESTRICT h_prev,
                   float* HWY_RESTRICT h_next, Accuracy acc,
                   BlockRowRange units) {
  HWY_DASSERT(h_next != h_prev);
  HWY_DASSERT(w.w_ih.rows == 3 * w.hidden && w.w_hh.rows == 3 * w.hidden);
  HWY_DYNAMIC_DISPATCH(SparseGruStepImpl)(w, x, h_prev, h_next, acc,
                                          units.begin, units.end);
}

}  // namespace sparrow
#endif  // HWY_ONCE
