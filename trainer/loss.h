// The trainer's losses, forward and backward side by side (conventions in
// trainer/layers.h). Each forward returns the mean loss over the batch (in
// double, whatever T) and saves what its backward needs; each backward adds
// d(mean loss)/d(input) to the gradient.
//
//   double loss = SoftmaxCrossEntropyForward(probs, logits, labels, B, C);
//   SoftmaxCrossEntropyBackward(dlogits, probs, labels, B, C);
//
//   // Distillation (Hinton et al.): KL(teacher || student) at temperature tau,
//   // scaled by tau^2 so its gradient keeps the size of a hard-label loss.
//   double kd = DistillationForward(p_s, p_t, student, teacher, B, C, 4.0);
//   DistillationBackward(dstudent, p_s, p_t, B, C, 4.0);
#ifndef SPARROW_TRAINER_LOSS_H_
#define SPARROW_TRAINER_LOSS_H_

#include <stddef.h>
#include <stdint.h>

#include <cmath>

namespace sparrow {
namespace train {

// out [C] = softmax(in [C] / tau) with the max subtracted; returns
// log(sum exp((in - max) / tau)) so callers can form log-probabilities.
template <typename T>
double SoftmaxRow(T* out, const T* in, size_t C, double tau = 1.0) {
  double mx = in[0];
  for (size_t c = 1; c < C; ++c) mx = in[c] > mx ? in[c] : mx;
  double sum = 0.0;
  for (size_t c = 0; c < C; ++c) sum += std::exp((in[c] - mx) / tau);
  for (size_t c = 0; c < C; ++c) {
    out[c] = static_cast<T>(std::exp((in[c] - mx) / tau) / sum);
  }
  return std::log(sum);
}

// ------------------------------ Softmax cross-entropy (fused)

// probs [B, C] = softmax(logits); returns mean -log probs[label].
template <typename T>
double SoftmaxCrossEntropyForward(T* probs, const T* logits,
                                  const int32_t* labels, size_t B, size_t C) {
  double loss = 0.0;
  for (size_t b = 0; b < B; ++b) {
    const T* z = logits + b * C;
    const double log_sum = SoftmaxRow(probs + b * C, z, C);
    double mx = z[0];
    for (size_t c = 1; c < C; ++c) mx = z[c] > mx ? z[c] : mx;
    loss += log_sum - (z[labels[b]] - mx);  // -log softmax, without log(p)
  }
  return loss / static_cast<double>(B);
}

// dlogits += (probs - onehot(label)) / B.
template <typename T>
void SoftmaxCrossEntropyBackward(T* dlogits, const T* probs,
                                 const int32_t* labels, size_t B, size_t C) {
  const T inv = T(1) / static_cast<T>(B);
  for (size_t b = 0; b < B; ++b) {
    for (size_t c = 0; c < C; ++c) {
      const T onehot = static_cast<size_t>(labels[b]) == c ? T(1) : T(0);
      dlogits[b * C + c] += (probs[b * C + c] - onehot) * inv;
    }
  }
}

// ------------------------------ Mean squared error

// mean over all n elements of (pred - target)^2.
template <typename T>
double MseForward(const T* pred, const T* target, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    sum += d * d;
  }
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

template <typename T>
void MseBackward(T* dpred, const T* pred, const T* target, size_t n) {
  const T scale = T(2) / static_cast<T>(n);
  for (size_t i = 0; i < n; ++i) dpred[i] += scale * (pred[i] - target[i]);
}

// ------------------------------ Distillation

// p_s, p_t [B, C] = softmax(student / tau), softmax(teacher / tau); returns
// tau^2 * mean over the batch of KL(p_t || p_s).
template <typename T>
double DistillationForward(T* p_s, T* p_t, const T* student, const T* teacher,
                           size_t B, size_t C, double tau) {
  double loss = 0.0;
  for (size_t b = 0; b < B; ++b) {
    const T* s = student + b * C;
    const T* t = teacher + b * C;
    const double ls = SoftmaxRow(p_s + b * C, s, C, tau);
    const double lt = SoftmaxRow(p_t + b * C, t, C, tau);
    double ms = s[0], mt = t[0];
    for (size_t c = 1; c < C; ++c) {
      ms = s[c] > ms ? s[c] : ms;
      mt = t[c] > mt ? t[c] : mt;
    }
    for (size_t c = 0; c < C; ++c) {
      const double log_pt = (t[c] - mt) / tau - lt;
      const double log_ps = (s[c] - ms) / tau - ls;
      loss += std::exp(log_pt) * (log_pt - log_ps);
    }
  }
  return tau * tau * loss / static_cast<double>(B);
}

// dstudent += tau (p_s - p_t) / B (the teacher gets no gradient).
template <typename T>
void DistillationBackward(T* dstudent, const T* p_s, const T* p_t, size_t B,
                          size_t C, double tau) {
  const T scale = static_cast<T>(tau / static_cast<double>(B));
  for (size_t i = 0; i < B * C; ++i) dstudent[i] += scale * (p_s[i] - p_t[i]);
}

}  // namespace train
}  // namespace sparrow

#endif  // SPARROW_TRAINER_LOSS_H_
