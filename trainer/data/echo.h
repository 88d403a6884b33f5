// The randomness of data echoing: how many copies each item gets, and the
// shuffle buffer that mixes the copies (Choi et al., 2019; pipeline.h).
//
//   EchoCounts counts(StreamSeed(seed, kEchoStream, epoch));
//   ShuffleBuffer<Item> shuffle(1024, StreamSeed(seed, kShuffleStream, epoch));
//   for (Item& x : items) {
//     const int copies = counts.Next(2.5);        // 2 or 3, 3 with p = 0.5
//     for (int k = 0; k < copies; ++k) {
//       Item out;
//       if (shuffle.Insert(Copy(x), &out)) Emit(std::move(out));
//     }
//   }
//   shuffle.Flush([](Item&& out) { Emit(std::move(out)); return true; });
//
// Contract: everything here is deterministic given its seed, and not
// thread-safe (each instance belongs to one pipeline stage). A ShuffleBuffer
// never holds more than its capacity; it allocates only up to that capacity.
#ifndef SPARROW_TRAINER_DATA_ECHO_H_
#define SPARROW_TRAINER_DATA_ECHO_H_

#include <stddef.h>
#include <stdint.h>

#include <cmath>
#include <utility>
#include <vector>

namespace sparrow {
namespace data {

// The SplitMix64 finalizer: a bijective 64-bit mix.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Folds `value` into the hash `h` (order matters).
inline uint64_t HashCombine(uint64_t h, uint64_t value) {
  return Mix64(h ^ (value + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2)));
}

// Independent streams derived from one user seed.
enum : uint64_t {
  kEchoStream = 0x6563686f,     // echo counts
  kShuffleStream = 0x73687566,  // shuffle-buffer choices
  kAugmentStream = 0x61756720,  // per-example augmentation
};

inline uint64_t StreamSeed(uint64_t seed, uint64_t stream, uint64_t a,
                           uint64_t b = 0, uint64_t c = 0) {
  return HashCombine(
      HashCombine(HashCombine(HashCombine(Mix64(seed), stream), a), b), c);
}

// Steele, Lea and Flood's SplitMix64 generator.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t Next() { return Mix64(state_ += 0x9E3779B97F4A7C15ull); }
  // [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // [0, n); n > 0. The modulo bias is below n / 2^64.
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// How many copies of the next item the echo stage emits for echo factor e:
// floor(e), or ceil(e) with probability e - floor(e). One draw per call, so
// the stream stays aligned whatever e is (echo_auto changes e on the fly).
class EchoCounts {
 public:
  explicit EchoCounts(uint64_t seed = 0) : rng_(seed) {}
  void Reseed(uint64_t seed) { rng_ = SplitMix64(seed); }
  // e >= 1 (callers validate it).
  int Next(double e) {
    const double whole = std::floor(e);
    const double u = rng_.Uniform();
    return static_cast<int>(whole) + (u < e - whole ? 1 : 0);
  }

 private:
  SplitMix64 rng_;
};

// A fixed-capacity shuffle buffer (as tf.data's shuffle): items go in until
// it holds `capacity`; from then on each insert emits one uniformly chosen
// item among those held and the new one. Flush() empties it in random order.
// A capacity of 0 or 1 passes items straight through.
template <typename T>
class ShuffleBuffer {
 public:
  explicit ShuffleBuffer(size_t capacity, uint64_t seed = 0)
      : capacity_(capacity <= 1 ? 0 : capacity), rng_(seed) {
    items_.reserve(capacity_);
  }
  ShuffleBuffer(const ShuffleBuffer&) = delete;
  ShuffleBuffer& operator=(const ShuffleBuffer&) = delete;

  void Reseed(uint64_t seed) { rng_ = SplitMix64(seed); }

  // Takes `item`; returns true and moves one item to *out when one leaves.
  bool Insert(T&& item, T* out) {
    if (items_.size() < capacity_) {
      items_.push_back(std::move(item));
      if (items_.size() > high_water_) high_water_ = items_.size();
      return false;
    }
    if (capacity_ == 0) {
      *out = std::move(item);
      return true;
    }
    const size_t j = static_cast<size_t>(rng_.Below(capacity_ + 1));
    if (j == capacity_) {
      *out = std::move(item);
    } else {
      *out = std::move(items_[j]);
      items_[j] = std::move(item);
    }
    return true;
  }

  // Moves a uniformly chosen held item to *out; false when empty.
  bool TakeRandom(T* out) {
    if (items_.empty()) return false;
    const size_t j = static_cast<size_t>(rng_.Below(items_.size()));
    *out = std::move(items_[j]);
    if (j + 1 != items_.size()) items_[j] = std::move(items_.back());
    items_.pop_back();
    return true;
  }

  // Calls emit(T&&) for every held item, in random order, until it returns
  // false (then returns false; the rest stay held).
  template <class Emit>
  bool Flush(Emit&& emit) {
    T item;
    while (TakeRandom(&item)) {
      if (!emit(std::move(item))) return false;
    }
    return true;
  }

  size_t size() const { return items_.size(); }
  size_t capacity() const { return capacity_; }
  // The most items ever held at once (the instrument for the contract).
  size_t high_water() const { return high_water_; }

 private:
  size_t capacity_;
  SplitMix64 rng_;
  std::vector<T> items_;
  size_t high_water_ = 0;
};

}  // namespace data
}  // namespace sparrow

#endif  // SPARROW_TRAINER_DATA_ECHO_H_
