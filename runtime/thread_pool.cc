#include "runtime/thread_pool.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

namespace sparrow {
namespace {

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  // Returns at once if *word != expected; spurious wake-ups are fine, every
  // caller re-checks its condition.
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          expected, nullptr, nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE,
          INT_MAX, nullptr, nullptr, 0);
}

inline void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

bool PinTo(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread, sizeof(set), &set) == 0;
}

}  // namespace

StatusOr<std::unique_ptr<ThreadPool>> ThreadPool::Create(
    const Options& options) {
  if (!options.pin && options.cpus.empty()) {
    // Unpinned pools do not need the topology; keep creation cheap.
    if (options.threads == 0) {
      return InvalidArgument("threads=0 needs pinning or a topology");
    }
    return std::unique_ptr<ThreadPool>(new ThreadPool(options, {}));
  }
  return Create(options, CpuTopology::Detect());
}

StatusOr<std::unique_ptr<ThreadPool>> ThreadPool::Create(
    const Options& options, const CpuTopology& topology) {
  std::vector<int> cpus = options.cpus;
  if (cpus.empty()) {
    if (options.socket < 0 || options.socket >= topology.num_sockets) {
      return InvalidArgument("socket=%d but the machine has %d socket(s) (%s)",
                             options.socket, topology.num_sockets,
                             topology.source.c_str());
    }
    cpus = topology.OneCpuPerCore(options.socket);
    if (options.threads > cpus.size()) {
      return InvalidArgument(
          "threads=%zu but socket %d has %zu physical core(s); pass cpus "
          "explicitly to oversubscribe",
          options.threads, options.socket, cpus.size());
    }
    if (options.threads != 0) cpus.resize(options.threads);
  } else if (options.threads != 0 && options.threads != cpus.size()) {
    return InvalidArgument("threads=%zu but %zu cpus given", options.threads,
                           cpus.size());
  }
  if (cpus.empty()) return InvalidArgument("a pool needs at least one thread");
  if (options.pin) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
      for (int cpu : cpus) {
        if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
          return InvalidArgument(
              "cpu %d is not one this process may run on", cpu);
        }
      }
    }
  }
  return std::unique_ptr<ThreadPool>(new ThreadPool(options, std::move(cpus)));
}

ThreadPool::ThreadPool(const Options& options, std::vector<int> cpus)
    : num_threads_(cpus.empty() ? options.threads : cpus.size()),
      cpus_(options.pin ? std::move(cpus) : std::vector<int>()),
      pin_(options.pin),
      spin_iterations_(options.spin_iterations) {
  if (pin_ && options.pin_caller) PinTo(pthread_self(), cpus_[0]);
  workers_.reserve(num_threads_ - 1);
  for (size_t i = 1; i < num_threads_; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  stop_ = true;
  task_ = nullptr;
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  FutexWakeAll(&epoch_);
  for (std::thread& t : workers_) t.join();
}

uint32_t ThreadPool::WaitForNewEpoch(uint32_t seen) {
  for (uint32_t i = 0; i < spin_iterations_; ++i) {
    const uint32_t e = epoch_.load(std::memory_order_acquire);
    if (e != seen) return e;
    Pause();
  }
  for (;;) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t e = epoch_.load(std::memory_order_seq_cst);
    if (e == seen) {
      FutexWait(&epoch_, seen);
      e = epoch_.load(std::memory_order_acquire);
    }
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    if (e != seen) return e;
  }
}

void ThreadPool::WorkerLoop(size_t index) {
  if (pin_) PinTo(pthread_self(), cpus_[index]);
  uint32_t seen = 0;
  for (;;) {
    seen = WaitForNewEpoch(seen);
    if (stop_) return;
    task_(context_, index);
    if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_waiting_.load(std::memory_order_seq_cst) != 0) {
      FutexWakeAll(&remaining_);
    }
  }
}

void ThreadPool::Run(Task task, void* context) {
  if (num_threads_ == 1) {
    task(context, 0);
    return;
  }
  task_ = task;
  context_ = context;
  remaining_.store(static_cast<uint32_t>(num_threads_ - 1),
                   std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) FutexWakeAll(&epoch_);

  task(context, 0);

  for (uint32_t i = 0; i < spin_iterations_; ++i) {
    if (remaining_.load(std::memory_order_acquire) == 0) return;
    Pause();
  }
  caller_waiting_.store(1, std::memory_order_seq_cst);
  for (;;) {
    const uint32_t r = remaining_.load(std::memory_order_seq_cst);
    if (r == 0) break;
    FutexWait(&remaining_, r);
  }
  caller_waiting_.store(0, std::memory_order_relaxed);
}

}  // namespace sparrow
