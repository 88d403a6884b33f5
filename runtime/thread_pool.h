// A persistent pool of worker threads pinned to the cores of one socket, for
// matrix products split into per-thread segments every RNN step.
//
//   auto pool = sparrow::ThreadPool::Create({.threads = 2});
//   if (!pool.ok()) return pool.status();
//   (*pool)->Run([&](size_t thread) { y_segment(thread); });  // all threads
//
// Contract:
// - Threads: NumThreads() includes the caller, which runs index 0 inside Run;
//   the other NumThreads()-1 are workers created once by Create() and joined
//   by the destructor. Run() returns after every index has finished, so the
//   task's writes are visible to the caller afterwards.
// - Run() is called from one thread at a time (it is not reentrant) and does
//   not allocate: the hot path is an atomic epoch plus futex wake-ups only for
//   threads that stopped spinning.
// - Waiting workers spin `spin_iterations` pause instructions, then block on a
//   futex, so an idle pool costs no CPU and a busy one answers in well under a
//   microsecond.
// - Pinning: worker i is pinned to cpus[i]; the caller is pinned to cpus[0]
//   only when `pin_caller` (it is the user's thread, so not by default).
#ifndef SPARROW_RUNTIME_THREAD_POOL_H_
#define SPARROW_RUNTIME_THREAD_POOL_H_

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "kernels/status.h"
#include "runtime/topology.h"

namespace sparrow {

class ThreadPool {
 public:
  struct Options {
    // Total threads including the caller. 0: one per physical core of
    // `socket`.
    size_t threads = 0;
    int socket = 0;
    // Explicit logical CPUs, one per thread (index 0 for the caller). Empty:
    // the first logical CPU of each physical core of `socket`.
    std::vector<int> cpus;
    bool pin = true;
    bool pin_caller = false;
    uint32_t spin_iterations = 4000;
  };

  using Task = void (*)(void* context, size_t thread);

  static StatusOr<std::unique_ptr<ThreadPool>> Create(const Options& options);
  static StatusOr<std::unique_ptr<ThreadPool>> Create(
      const Options& options, const CpuTopology& topology);

  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t NumThreads() const { return num_threads_; }
  // The CPU each thread is (or would be) pinned to; empty when unpinned.
  const std::vector<int>& cpus() const { return cpus_; }

  // Runs task(context, i) for every i in [0, NumThreads()).
  void Run(Task task, void* context);

  // Runs f(i) for every i in [0, NumThreads()); f must outlive the call.
  template <class F>
  void Run(const F& f) {
    Run(&CallFunctor<F>, const_cast<void*>(static_cast<const void*>(&f)));
  }

 private:
  ThreadPool(const Options& options, std::vector<int> cpus);
  template <class F>
  static void CallFunctor(void* f, size_t thread) {
    (*static_cast<const F*>(f))(thread);
  }
  void WorkerLoop(size_t index);
  uint32_t WaitForNewEpoch(uint32_t seen);

  const size_t num_threads_;
  const std::vector<int> cpus_;
  const bool pin_;
  const uint32_t spin_iterations_;

  // Published by Run() before the epoch moves (release); read by workers
  // after they see the new epoch (acquire).
  Task task_ = nullptr;
  void* context_ = nullptr;
  bool stop_ = false;

  alignas(64) std::atomic<uint32_t> epoch_{0};       // futex word
  alignas(64) std::atomic<uint32_t> sleepers_{0};    // workers in futex wait
  alignas(64) std::atomic<uint32_t> remaining_{0};   // futex word
  alignas(64) std::atomic<uint32_t> caller_waiting_{0};
  std::vector<std::thread> workers_;
};

}  // namespace sparrow

#endif  // SPARROW_RUNTIME_THREAD_POOL_H_
