// The model fuzz target: arbitrary bytes through Model::FromBuffer and, when
// they load, Interpreter::Create / Invoke / ResetState (docs/FUZZING.md).
//
//   // libFuzzer calls this (model_fuzzer.cc); so do the replay main and
//   // //runtime/fuzz:model_fuzzer_corpus_test.
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
//
//   // Tests drive one input with explicit options and check how far it got.
//   sparrow::fuzz::Reached r = sparrow::fuzz::RunModelInput(
//       bytes.data(), bytes.size(), sparrow::fuzz::FuzzOptions{});
//
// Contract: a crash, a sanitizer report or an abort is a bug in the runtime
// (or a broken contract the target checks: a Model that loads from the
// aligned buffer but not from the copy, a weight pointer outside the file or
// misaligned, an arena of ArenaBytesNeeded() bytes that Create() calls too
// small, Invoke() failing with anything but OUT_OF_RANGE, outputs after
// ResetState() that differ from the first Invoke()'s). Every other failure is
// a Status and simply ends the input. Deterministic: the same bytes do the same
// work. Not thread-safe (libFuzzer runs one input at a time).
#ifndef SPARROW_RUNTIME_FUZZ_MODEL_FUZZER_H_
#define SPARROW_RUNTIME_FUZZ_MODEL_FUZZER_H_

#include <stddef.h>
#include <stdint.h>

namespace sparrow {
namespace fuzz {

// How far an input got.
enum class Reached {
  kRejected,  // Model::FromBuffer returned an error.
  kLoaded,    // loaded; skipped (over a cost cap) or not runnable (Create).
  kPrepared,  // Interpreter::Create succeeded; Invoke returned an error.
  kInvoked,   // Invoke succeeded (twice, and again after ResetState).
};
const char* ReachedName(Reached r);

// Choices the fuzzer makes per input, from the bits of its last byte (the
// byte stays part of the model: seeds need no framing).
struct FuzzOptions {
  bool copy = false;         // also load from an unaligned buffer, run that
  bool fuse = true;          // InterpreterOptions::fuse
  bool fast = false;         // Accuracy::kFast instead of kPrecise
  bool odd_arena = false;    // arena base not 64-byte aligned
  bool wild_values = false;  // NaN/Inf floats, out-of-range i32 indices
};
FuzzOptions OptionsFromInput(const uint8_t* data, size_t size);

// Caps that keep one iteration fast; a model over one is skipped (kLoaded).
constexpr size_t kMaxArenaBytes = size_t{64} << 20;
constexpr size_t kMaxTotalElements = size_t{1} << 22;  // all tensors
// Sum over ops of (input elements) x (output elements): a bound on the
// multiply-adds of any op that reads each input at most once per output.
constexpr uint64_t kMaxWork = uint64_t{1} << 26;

Reached RunModelInput(const uint8_t* data, size_t size,
                      const FuzzOptions& options);

}  // namespace fuzz
}  // namespace sparrow

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#endif  // SPARROW_RUNTIME_FUZZ_MODEL_FUZZER_H_
