// Scalar reference for kernels/gru.h (PyTorch GRUCell semantics), written for
// obviousness and templated on T so tests can run it in double.
#ifndef SPARROW_KERNELS_GRU_SCALAR_H_
#define SPARROW_KERNELS_GRU_SCALAR_H_

#include <stddef.h>

#include <cmath>

namespace sparrow {

// w_ih [3H, I], w_hh [3H, H], b_ih/b_hh [3H] or nullptr; rows ordered (r, z, n).
template <typename T>
void GruStepScalar(const T* w_ih, const T* w_hh, const T* b_ih, const T* b_hh,
                   size_t input, size_t hidden, const T* x, const T* h_prev,
                   T* h_next) {
  auto gi = [&](size_t row) {  // W_i? x + b_i?
    T s = b_ih ? b_ih[row] : T(0);
    for (size_t c = 0; c < input; ++c) s += w_ih[row * input + c] * x[c];
    return s;
  };
  auto gh = [&](size_t row) {  // W_h? h + b_h?
    T s = b_hh ? b_hh[row] : T(0);
    for (size_t c = 0; c < hidden; ++c) s += w_hh[row * hidden + c] * h_prev[c];
    return s;
  };
  auto sigmoid = [](T v) { return T(1) / (T(1) + std::exp(-v)); };
  for (size_t j = 0; j < hidden; ++j) {
    const T r = sigmoid(gi(j) + gh(j));
    const T z = sigmoid(gi(hidden + j) + gh(hidden + j));
    const T n = std::tanh(gi(2 * hidden + j) + r * gh(2 * hidden + j));
    h_next[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

}  // namespace sparrow

#endif  // SPARROW_KERNELS_GRU_SCALAR_H_
