// Training checkpoints: the counters, the RNG state, every parameter and the
// optimizer state in one file, written atomically and read distrustfully.
//
//   sparrow::train::TrainingState state;
//   state.step = step;
//   state.epoch = epoch;
//   state.rng = rng.Save();                            // opaque bytes
//   sparrow::Status s = sparrow::train::WriteCheckpoint(
//       "run/ckpt.spc", state, params, *optimizer);  // keeps the old on error
//   ...
//   // Resuming: the same model and kind of optimizer, freshly built.
//   s = sparrow::train::ReadCheckpoint("run/ckpt.spc", params,
//                                      optimizer.get(), &state);
//   if (!s.ok()) { fprintf(stderr, "%s\n", s.message()); return 1; }
//   rng.Restore(state.rng);  // and continue at state.step
//
// File layout (little-endian; docs/TRAINER.md has the table):
//   header   "SPRWCKPT", u32 version (1), u32 crc32 of the payload (zlib's),
//            u64 payload bytes
//   payload  i64 step, i64 epoch, u64 rng bytes + bytes, u32 num_params,
//            per param: u32 name bytes + name, u32 rank, rank x u32 dims,
//            Size() f32 values; u64 optimizer state bytes + the bytes of
//            Optimizer::SaveState.
//
// Contract:
// - WriteCheckpoint never leaves a damaged file at `path`: it writes
//   `path`.tmp in the same directory, fsyncs it, renames it over `path` and
//   fsyncs the directory. If anything fails the old checkpoint is untouched
//   and the temp file removed. It refuses (INVALID_ARGUMENT) parameters with a
//   NaN or infinite value, so a diverged run cannot replace a good checkpoint.
// - ReadCheckpoint distrusts every byte: a missing file is NOT_FOUND; wrong
//   magic or version INVALID_ARGUMENT; truncated, trailing bytes or a CRC
//   mismatch DATA_LOSS; params whose count, names (in order) or shapes differ
//   from the model being resumed, non-finite values or an optimizer state of
//   another kind INVALID_ARGUMENT. Messages name the file, the field and the
//   value. On any error nothing it was given is modified.
// - Resuming is bit-exact: values, optimizer state and counters come back
//   with the same bits, so N steps equal k steps, a checkpoint and N-k more.
// - Param grads and decay flags are not stored (the model defines them).
// - Memory: reading holds the whole file once, plus the decoded values.
//   Thread-compatible; concurrent writers to one path are not supported.
#ifndef SPARROW_TRAINER_CHECKPOINT_H_
#define SPARROW_TRAINER_CHECKPOINT_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/optim/optimizer.h"
#include "trainer/param.h"

namespace sparrow {
namespace train {

inline constexpr char kCheckpointMagic[8] = {'S', 'P', 'R', 'W',
                                             'C', 'K', 'P', 'T'};
inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointHeaderBytes = 24;

// What the training loop needs besides params and optimizer to continue.
struct TrainingState {
  int64_t step = 0;  // optimizer steps taken
  int64_t epoch = 0;
  std::vector<uint8_t> rng;  // the trainer's RNG state, opaque here
};

Status WriteCheckpoint(const std::string& path, const TrainingState& state,
                       const std::vector<Param*>& params,
                       const Optimizer& optimizer);

// Loads into `params` (the model being resumed: same count, order, names and
// shapes), `optimizer` (same kind; nullptr skips its state, e.g. to evaluate)
// and `state` (nullptr skips it).
Status ReadCheckpoint(const std::string& path,
                      const std::vector<Param*>& params, Optimizer* optimizer,
                      TrainingState* state);

// The file's bytes, and their parser (`name` stands for the file in
// messages), for tests and tools.
StatusOr<std::vector<uint8_t>> EncodeCheckpoint(
    const TrainingState& state, const std::vector<Param*>& params,
    const Optimizer& optimizer);
Status DecodeCheckpoint(const uint8_t* data, size_t size,
                        const std::string& name,
                        const std::vector<Param*>& params, Optimizer* optimizer,
                        TrainingState* state);

// Replaces `path` with `bytes` as WriteCheckpoint does (temp file, fsync,
// rename, fsync of the directory). Errors name the step and errno:
// NOT_FOUND (no such directory), RESOURCE_EXHAUSTED (disk full, file too
// large), FAILED_PRECONDITION (permissions, a directory in the way), INTERNAL.
Status WriteFileAtomically(const std::string& path,
                           const std::vector<uint8_t>& bytes);

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_CHECKPOINT_H_
