// How a product embeds Sparrow: one static arena, no heap use after setup,
// every error a Status. Runs a model on a ramp input and prints its outputs.
//
//   bazel run //tools:embed_example -- testdata/models/tiny_mlp.spw
//
// Exit status: 0 on success, 1 on any error (printed to stderr).
#include <stdio.h>
#include <string.h>

#include "runtime/sparrow.h"

namespace {

// The whole memory budget of the model's activations, state and scratch.
alignas(64) uint8_t g_arena[256 << 10];

int Fail(const sparrow::Status& s) {
  fprintf(stderr, "embed_example: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: embed_example MODEL.spw\n");
    return 1;
  }
  sparrow::StatusOr<sparrow::Model> model = sparrow::Model::FromFile(argv[1]);
  if (!model.ok()) return Fail(model.status());
  sparrow::StatusOr<sparrow::Interpreter> interp =
      sparrow::Interpreter::Create(*model, g_arena, sizeof(g_arena));
  if (!interp.ok()) return Fail(interp.status());
  for (size_t i = 0; i < interp->num_inputs(); ++i) {
    const sparrow::TensorView in = interp->input(i);
    for (size_t j = 0; j < in.num_elements; ++j) {
      if (in.dtype == sparrow::schema::DType::I32) {
        in.i32()[j] = 0;
      } else {
        in.f32()[j] = static_cast<float>(j % 7) / 7.0f - 0.5f;
      }
    }
  }
  const sparrow::Status s = interp->Invoke();
  if (!s.ok()) return Fail(s);
  printf("arena: %zu of %zu bytes used\n", interp->ArenaBytesUsed(),
         sizeof(g_arena));
  for (size_t i = 0; i < interp->num_outputs(); ++i) {
    const sparrow::TensorView out = interp->output(i);
    printf("output %zu '%s' (%zu values):", i, out.name, out.num_elements);
    for (size_t j = 0; j < out.num_elements && j < 16; ++j) {
      printf(" %.6g", out.f32()[j]);
    }
    printf("%s\n", out.num_elements > 16 ? " ..." : "");
  }
  return 0;
}
