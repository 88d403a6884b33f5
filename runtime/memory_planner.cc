#include "runtime/memory_planner.h"

#include <stdint.h>

#include <algorithm>
#include <utility>

#include "runtime/arena.h"

namespace sparrow {
namespace {

// A validated buffer: size rounded up to the arena alignment.
struct Item {
  size_t bytes;
  int32_t first;
  int32_t last;
};

bool LifetimesIntersect(const Item& a, const Item& b) {
  return a.first <= b.last && b.first <= a.last;
}

// Checks the input and rounds sizes up; the sum of all rounded sizes fits in
// size_t, so no offset the greedy computes can overflow.
StatusOr<std::vector<Item>> Validate(
    const std::vector<BufferLifetime>& buffers) {
  std::vector<Item> items(buffers.size());
  size_t total = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    const BufferLifetime& b = buffers[i];
    if (b.first_step < 0) {
      return InvalidArgument("buffer %zu: first_step=%d is negative", i,
                             b.first_step);
    }
    if (b.last_step < b.first_step) {
      return InvalidArgument("buffer %zu: last_step=%d < first_step=%d", i,
                             b.last_step, b.first_step);
    }
    size_t aligned;
    if (!AlignArenaSize(b.bytes, &aligned) ||
        __builtin_add_overflow(total, aligned, &total)) {
      return OutOfRange("buffer %zu: bytes=%zu overflows the plan's size", i,
                        b.bytes);
    }
    items[i] = {aligned, b.first_step, b.last_step};
  }
  return items;
}

size_t ComputeLowerBound(const std::vector<Item>& items) {
  // +bytes at first, -bytes after last; at equal steps the frees come first.
  struct Event {
    int64_t step;
    bool alloc;
    size_t bytes;
  };
  std::vector<Event> events;
  events.reserve(2 * items.size());
  for (const Item& it : items) {
    events.push_back({it.first, true, it.bytes});
    events.push_back({int64_t{it.last} + 1, false, it.bytes});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.step != b.step) return a.step < b.step;
    return a.alloc < b.alloc;
  });
  size_t live = 0, peak = 0;
  for (const Event& e : events) {
    if (e.alloc) {
      live += e.bytes;
      peak = std::max(peak, live);
    } else {
      live -= e.bytes;
    }
  }
  return peak;
}

// For each buffer, the most bytes alive at any step of its lifetime.
std::vector<size_t> Pressures(const std::vector<Item>& items) {
  std::vector<int64_t> steps;  // Where the live set can change.
  steps.reserve(2 * items.size());
  for (const Item& it : items) {
    steps.push_back(it.first);
    steps.push_back(int64_t{it.last} + 1);
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  auto index_of = [&](int64_t step) {
    return static_cast<size_t>(
        std::lower_bound(steps.begin(), steps.end(), step) - steps.begin());
  };
  // live[k]: bytes alive during [steps[k], steps[k+1]).
  std::vector<size_t> delta(steps.size() + 1, 0), removed(steps.size() + 1, 0);
  for (const Item& it : items) {
    delta[index_of(it.first)] += it.bytes;
    removed[index_of(int64_t{it.last} + 1)] += it.bytes;
  }
  std::vector<size_t> live(steps.size(), 0);
  size_t running = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    running = running + delta[k] - removed[k];
    live[k] = running;
  }
  std::vector<size_t> pressure(items.size(), 0);
  for (size_t i = 0; i < items.size(); ++i) {
    const size_t begin = index_of(items[i].first);
    const size_t end = index_of(int64_t{items[i].last} + 1);
    pressure[i] = *std::max_element(live.begin() + begin, live.begin() + end);
  }
  return pressure;
}

std::vector<uint32_t> JitteredSizeOrder(const std::vector<Item>& items,
                                        uint32_t round);

std::vector<uint32_t> Order(const std::vector<Item>& items, PlanOrder order,
                            const std::vector<size_t>& pressure) {
  std::vector<uint32_t> idx(items.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  auto length = [&](uint32_t i) {
    return static_cast<int64_t>(items[i].last) - items[i].first + 1;
  };
  // Every comparator ends on the index, so the order is total and the plan
  // deterministic.
  auto by_size = [&](uint32_t a, uint32_t b) {
    if (items[a].bytes != items[b].bytes) return items[a].bytes > items[b].bytes;
    if (items[a].first != items[b].first) return items[a].first < items[b].first;
    return a < b;
  };
  switch (order) {
    case PlanOrder::kSize:
      std::sort(idx.begin(), idx.end(), by_size);
      break;
    case PlanOrder::kArea:
      std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        // bytes * steps can exceed 64 bits; the product of the rounded size
        // and a length below 2^32 fits in 128.
        const unsigned __int128 area_a =
            static_cast<unsigned __int128>(items[a].bytes) * length(a);
        const unsigned __int128 area_b =
            static_cast<unsigned __int128>(items[b].bytes) * length(b);
        if (area_a != area_b) return area_a > area_b;
        return by_size(a, b);
      });
      break;
    case PlanOrder::kLifetime:
      std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        if (length(a) != length(b)) return length(a) > length(b);
        return by_size(a, b);
      });
      break;
    case PlanOrder::kFirstUse:
      std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        if (items[a].first != items[b].first) {
          return items[a].first < items[b].first;
        }
        return by_size(a, b);
      });
      break;
    case PlanOrder::kPressure:
      std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        if (pressure[a] != pressure[b]) return pressure[a] > pressure[b];
        return by_size(a, b);
      });
      break;
    case PlanOrder::kJitteredSize:
      return JitteredSizeOrder(items, 1);
  }
  return idx;
}

// SplitMix64 of (round, buffer): the same jitter on every platform.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Largest first by size times a pseudo-random factor in [1, 2]: buffers
// within 2x of each other trade places, orders the fixed sorts never try.
// (Measured on the random graphs of memory_planner_test: factors up to 1.25
// helped little, [1, 2] most of what wider ranges give.)
std::vector<uint32_t> JitteredSizeOrder(const std::vector<Item>& items,
                                        uint32_t round) {
  constexpr uint64_t kJitter = 1024;
  std::vector<std::pair<unsigned __int128, uint32_t>> keys(items.size());
  for (uint32_t i = 0; i < items.size(); ++i) {
    const uint64_t r = Mix((uint64_t{round} << 32) | i) % (kJitter + 1);
    keys[i] = {static_cast<unsigned __int128>(items[i].bytes) * (1024 + r), i};
  }
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return a.second < b.second;
  });
  std::vector<uint32_t> order(items.size());
  for (size_t k = 0; k < keys.size(); ++k) order[k] = keys[k].second;
  return order;
}

// Places buffers one at a time in `order`; returns the head size.
size_t Place(const std::vector<Item>& items, const std::vector<uint32_t>& order,
             PlanFit fit, std::vector<size_t>* offsets) {
  offsets->assign(items.size(), 0);
  std::vector<uint32_t> placed;  // Nonempty buffers, by ascending offset.
  placed.reserve(items.size());
  size_t head = 0;
  for (const uint32_t i : order) {
    const Item& item = items[i];
    if (item.bytes == 0) continue;
    // Walk the placed buffers that are alive with `item`, bottom up, and
    // consider each gap between them. `end` is the top of what was seen.
    size_t end = 0;
    size_t chosen = SIZE_MAX;
    size_t chosen_gap = SIZE_MAX;
    for (const uint32_t p : placed) {
      if (!LifetimesIntersect(items[p], item)) continue;
      const size_t offset = (*offsets)[p];
      if (offset > end) {
        const size_t gap = offset - end;
        if (gap >= item.bytes && gap < chosen_gap) {
          chosen = end;
          chosen_gap = gap;
          if (fit == PlanFit::kFirst) break;
        }
      }
      end = std::max(end, offset + items[p].bytes);
    }
    if (chosen == SIZE_MAX) chosen = end;  // Above everything alive with it.
    (*offsets)[i] = chosen;
    head = std::max(head, chosen + item.bytes);
    const auto pos = std::upper_bound(
        placed.begin(), placed.end(), chosen,
        [&](size_t offset, uint32_t p) { return offset < (*offsets)[p]; });
    placed.insert(pos, i);
  }
  return head;
}

}  // namespace

const char* PlanStrategyName(PlanStrategy strategy) {
  static const char* const kNames[6][2] = {
      {"size/first", "size/best"},
      {"area/first", "area/best"},
      {"lifetime/first", "lifetime/best"},
      {"first_use/first", "first_use/best"},
      {"pressure/first", "pressure/best"},
      {"jittered_size/first", "jittered_size/best"},
  };
  const size_t order = static_cast<size_t>(strategy.order);
  const size_t fit = static_cast<size_t>(strategy.fit);
  if (order >= 6 || fit >= 2) return "unknown";
  return kNames[order][fit];
}

const std::vector<PlanStrategy>& DefaultPlanStrategies() {
  static const std::vector<PlanStrategy>* const kStrategies = [] {
    auto* v = new std::vector<PlanStrategy>;
    for (PlanOrder order :
         {PlanOrder::kSize, PlanOrder::kPressure, PlanOrder::kArea,
          PlanOrder::kLifetime, PlanOrder::kFirstUse}) {
      for (PlanFit fit : {PlanFit::kFirst, PlanFit::kBest}) {
        v->push_back({order, fit});
      }
    }
    return v;
  }();
  return *kStrategies;
}

StatusOr<size_t> LowerBound(const std::vector<BufferLifetime>& buffers) {
  StatusOr<std::vector<Item>> items = Validate(buffers);
  if (!items.ok()) return items.status();
  return ComputeLowerBound(*items);
}

StatusOr<MemoryPlan> PlanMemory(const std::vector<BufferLifetime>& buffers,
                                const PlannerOptions& options) {
  StatusOr<std::vector<Item>> validated = Validate(buffers);
  if (!validated.ok()) return validated.status();
  const std::vector<Item>& items = *validated;
  const std::vector<PlanStrategy>& strategies =
      options.strategies.empty() ? DefaultPlanStrategies() : options.strategies;

  MemoryPlan best;
  best.lower_bound = ComputeLowerBound(items);
  best.head_bytes = SIZE_MAX;
  std::vector<size_t> pressure;
  std::vector<size_t> offsets;
  for (const PlanStrategy& strategy : strategies) {
    if (strategy.order == PlanOrder::kPressure && pressure.empty()) {
      pressure = Pressures(items);
    }
    const size_t head =
        Place(items, Order(items, strategy.order, pressure), strategy.fit,
              &offsets);
    if (head < best.head_bytes) {
      best.head_bytes = head;
      best.offsets.swap(offsets);
      best.strategy = strategy;
      if (head == best.lower_bound) return best;  // Optimal.
    }
  }
  // Each round costs up to n^2 / 2 buffer visits; keep the total near kWork
  // (tens of milliseconds) for large graphs.
  constexpr double kWork = 1e8;
  const double n = static_cast<double>(std::max<size_t>(items.size(), 1));
  const uint32_t rounds = static_cast<uint32_t>(std::min<double>(
      options.jitter_rounds, std::max(1.0, kWork / (n * n))));
  for (uint32_t round = 1; round <= rounds; ++round) {
    const size_t head =
        Place(items, JitteredSizeOrder(items, round), PlanFit::kFirst, &offsets);
    if (head < best.head_bytes) {
      best.head_bytes = head;
      best.offsets.swap(offsets);
      best.strategy = {PlanOrder::kJitteredSize, PlanFit::kFirst};
      best.jitter_round = round;
      if (head == best.lower_bound) break;
    }
  }
  return best;
}

}  // namespace sparrow
