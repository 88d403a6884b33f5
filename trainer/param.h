// A trainable parameter: its values, its gradient, and what the optimizers
// and checkpoints need to know about it.
//
//   sparrow::train::Param w("fc1.weight", {120, 400});
//   w.value[i] = ...;                  // initialised by the layer
//   ...backward passes accumulate into w.grad with +=...
//   optimizer.Step({&w, &b});          // reads grad, updates value
//   w.ZeroGrad();
//
// Contract: value and grad always have Size() elements, row-major in
// `shape`. `decay` says whether weight decay applies (weights yes; biases and
// norms no, as is usual for AdamW). Not thread-safe: the training loop owns
// its parameters; per-thread gradient buffers are reduced into grad in a
// fixed order, so results do not depend on scheduling.
#ifndef SPARROW_TRAINER_PARAM_H_
#define SPARROW_TRAINER_PARAM_H_

#include <stddef.h>

#include <string>
#include <utility>
#include <vector>

namespace sparrow {
namespace train {

struct Param {
  Param() = default;
  Param(std::string name_, std::vector<int> shape_, bool decay_ = true)
      : name(std::move(name_)), shape(std::move(shape_)), decay(decay_) {
    value.assign(Size(), 0.0f);
    grad.assign(Size(), 0.0f);
  }

  size_t Size() const {
    size_t n = 1;
    for (int d : shape) n *= static_cast<size_t>(d);
    return n;
  }
  void ZeroGrad() { grad.assign(grad.size(), 0.0f); }

  std::string name;        // unique within a model, e.g. "conv1.weight"
  std::vector<int> shape;  // e.g. [out, in] for a Linear weight
  bool decay = true;       // weight decay applies
  std::vector<float> value;
  std::vector<float> grad;
};

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_PARAM_H_
