// Sparrow's runtime API: load a validated model, plan it into one arena, run
// it. This header is all an embedding product needs to include.
//
//   #include "runtime/sparrow.h"
//
//   alignas(64) static uint8_t arena[256 << 10];  // the whole memory budget
//
//   int Run(const char* path, const float* x, float* y) {
//     sparrow::StatusOr<sparrow::Model> model = sparrow::Model::FromFile(path);
//     if (!model.ok()) return Fail(model.status());  // names the bad field
//     sparrow::StatusOr<sparrow::Interpreter> interp =
//         sparrow::Interpreter::Create(*model, arena, sizeof(arena));
//     if (!interp.ok()) return Fail(interp.status());  // e.g. arena too small
//     sparrow::TensorView in = interp->input(0);
//     memcpy(in.data, x, in.bytes);
//     sparrow::Status s = interp->Invoke();       // no heap allocation
//     if (!s.ok()) return Fail(s);
//     memcpy(y, interp->output(0).data, interp->output(0).bytes);
//     return 0;
//   }
//
// The pieces, each with its own contract:
// - runtime/model.h: Model::FromBuffer / FromFile (mmap), validation of every
//   byte (docs/FORMAT.md), zero-copy weights when the buffer is 64-byte
//   aligned.
// - runtime/interpreter.h: Interpreter::ArenaBytesNeeded / Create / Invoke /
//   ResetState, InterpreterOptions{threads, cores, accuracy, fuse}.
// - kernels/status.h: Status and StatusOr (no exceptions, no RTTI).
#ifndef SPARROW_RUNTIME_SPARROW_H_
#define SPARROW_RUNTIME_SPARROW_H_

#include "kernels/status.h"         // IWYU pragma: export
#include "runtime/interpreter.h"    // IWYU pragma: export
#include "runtime/model.h"          // IWYU pragma: export

#endif  // SPARROW_RUNTIME_SPARROW_H_
