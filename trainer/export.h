// Exports a trained Net to the runtime's model format (.spw, docs/FORMAT.md),
// so the runtime computes what Net::Forward(training=false) computes.
//
//   ExportOptions o;
//   o.batch = 1;                  // the runtime graph's fixed batch N
//   SPARROW_RETURN_IF_ERROR(ExportNet(trainer->net(), o, "lenet5.spw"));
//   ...
//   StatusOr<Model> m = Model::FromFile("lenet5.spw");
//   StatusOr<Interpreter> it = Interpreter::Create(*m);
//   memcpy(it->input(0).data, image, it->input(0).bytes);   // [1, 28, 28, 1]
//   SPARROW_RETURN_IF_ERROR(it->Invoke());
//   const float* probs = it->output(0).f32();                // [1, 10]
//   const float* logits = it->output(1).f32();               // [1, 10]
//
// The graph, one op per layer, tensors named after the layers and params:
// - input 0 "input": [N, ...net.input_shape()].
// - Linear -> FullyConnected ("fc1.weight" [out, in], "fc1.bias", "fc1.out"),
//   on the last axis of any rank, as the trainer. Conv2D -> Conv2D (filter
//   [O, KH, KW, C] as trained; symmetric pad, stride, dilation). MaxPool2D /
//   AvgPool2D -> the pool ops (count_include_pad = include_pad). Flatten ->
//   Flatten(axis=1), [N, H, W, C] -> [N, H W C]: both are row-major NHWC, so
//   the order is the trainer's. Activation layers -> Activation ops (the
//   runtime's fusion pass folds them into the FullyConnected / Conv2D before
//   them). Dropout -> nothing (the identity at inference).
// - Gru -> Gru (FullSequence, no state: every Invoke() starts from h = 0),
//   only with batch == 1: the runtime's Gru takes one sequence x [T, I]. A
//   Reshape "gru1.in" drops the batch axis before it; the layers after it run
//   on [T, H] rows until a Flatten (axis=0, giving [1, T H]) or the end (a
//   Reshape "logits" to [1, T, ...]) restores it.
// - Outputs: with softmax (default), output 0 is "probs" (Softmax over the
//   last axis) and output 1 the logits; without, output 0 is the logits. The
//   logits are the last layer's tensor, [N, ...net.output_shape()]; keeping
//   them an output costs no copy and does not stop the fusion.
//
// Contract:
// - Weights are copied into the file (f32, or bf16 rounded to nearest even
//   for FC/Conv2D/Gru weight matrices when `bf16`; biases stay f32). The Net
//   is only read. The same Net and options give the same bytes.
// - The result is checked with Model::FromBuffer before it is returned or
//   written, so a Status-free export always loads.
// - Errors: INVALID_ARGUMENT for batch < 1, an empty path, a NaN or infinite
//   parameter (naming it and the index; also a finite value that bf16 cannot
//   hold); UNIMPLEMENTED naming the layer for what the format cannot express
//   (a Gru with batch > 1, a rank above 8 once the batch axis is added);
//   the loader's Status, prefixed, if the model does not validate (e.g. a
//   tensor over 2^48 bytes); ModelBuilder::WriteFile's for a path that cannot
//   be written (the old file, if any, is left whole: the write is atomic).
// - Thread-compatible: concurrent exports of one Net are safe.
#ifndef SPARROW_TRAINER_EXPORT_H_
#define SPARROW_TRAINER_EXPORT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "kernels/status.h"
#include "trainer/net.h"

namespace sparrow {
namespace train {

struct ExportOptions {
  int batch = 1;        // N, the leading dim of every tensor (Gru: 1 only)
  bool softmax = true;  // output 0 = softmax(logits), output 1 = logits
  bool bf16 = false;    // weight matrices as bf16 (biases stay f32)
  // Model.description; empty: "sparrow trainer: <net.spec()>".
  std::string description;
};

// The .spw file's bytes.
StatusOr<std::vector<uint8_t>> ExportNetBytes(const Net& net,
                                              const ExportOptions& options);
// ExportNetBytes written to `path` atomically (ModelBuilder::WriteFile).
Status ExportNet(const Net& net, const ExportOptions& options,
                 const std::string& path);

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_EXPORT_H_
