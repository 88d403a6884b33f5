#include "runtime/thread_pool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace sparrow {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr size_t kStressRounds = 1000000;  // The million, under tsan.
#else
constexpr size_t kStressRounds = 1000000;
#endif

size_t AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return static_cast<size_t>(CPU_COUNT(&set));
}

std::unique_ptr<ThreadPool> MakeUnpinned(size_t threads,
                                         uint32_t spin = 4000) {
  ThreadPool::Options o;
  o.threads = threads;
  o.pin = false;
  o.spin_iterations = spin;
  auto pool = ThreadPool::Create(o);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

TEST(TopologyTest, DetectFindsTheCpusWeRunOn) {
  const CpuTopology t = CpuTopology::Detect();
  ASSERT_GE(t.cores.size(), 1u);
  EXPECT_GE(t.num_sockets, 1);
  size_t logical = 0;
  for (const CpuCore& c : t.cores) logical += c.cpus.size();
  EXPECT_EQ(logical, AllowedCpus()) << t.Describe();
  EXPECT_EQ(t.OneCpuPerCore(0).size(), static_cast<size_t>(t.NumCores(0)));
  EXPECT_NE(t.Describe().find("socket"), std::string::npos);
}

TEST(TopologyTest, OneCpuPerCoreSkipsSmtSiblingsAndOtherSockets) {
  std::vector<CpuCore> cores(3);
  cores[0].cpus = {0, 8};
  cores[1].cpus = {1, 9};
  cores[2].socket = 1;
  cores[2].l3_group = 1;
  cores[2].cpus = {4, 12};
  const CpuTopology t = CpuTopology::FromCores(cores, "test");
  EXPECT_EQ(t.num_sockets, 2);
  EXPECT_EQ(t.num_l3_groups, 2);
  EXPECT_EQ(t.OneCpuPerCore(0), (std::vector<int>{0, 1}));
  EXPECT_EQ(t.OneCpuPerCore(1), (std::vector<int>{4}));
  EXPECT_TRUE(t.OneCpuPerCore(2).empty());
  EXPECT_EQ(t.Describe(),
            "2 sockets, 3 cores, 6 logical CPUs, 2 L3 groups (test)");
}

TEST(ThreadPoolTest, RejectsBadOptions) {
  std::vector<CpuCore> cores(2);
  cores[0].cpus = {0};
  cores[1].cpus = {1};
  const CpuTopology t = CpuTopology::FromCores(cores, "test");
  ThreadPool::Options o;
  o.socket = 3;
  auto bad_socket = ThreadPool::Create(o, t);
  ASSERT_FALSE(bad_socket.ok());
  EXPECT_NE(std::string(bad_socket.status().message()).find("socket=3"),
            std::string::npos);
  o.socket = 0;
  o.threads = 5;
  auto too_many = ThreadPool::Create(o, t);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(std::string(too_many.status().message()).find("threads=5"),
            std::string::npos);
  o.threads = 0;
  o.cpus = {100000};
  auto bad_cpu = ThreadPool::Create(o, t);
  ASSERT_FALSE(bad_cpu.ok());
  EXPECT_NE(std::string(bad_cpu.status().message()).find("cpu 100000"),
            std::string::npos);
  o.cpus = {0, 0};
  o.threads = 3;
  EXPECT_FALSE(ThreadPool::Create(o, t).ok());
}

TEST(ThreadPoolTest, PinnedPoolOnThisMachine) {
  ThreadPool::Options o;  // One per physical core of socket 0.
  auto pool = ThreadPool::Create(o);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  const CpuTopology t = CpuTopology::Detect();
  EXPECT_EQ((*pool)->NumThreads(), static_cast<size_t>(t.NumCores(0)));
  EXPECT_EQ((*pool)->cpus(), t.OneCpuPerCore(0));
  // Each worker runs on the CPU it was pinned to.
  std::vector<int> seen((*pool)->NumThreads(), -1);
  (*pool)->Run([&](size_t i) {
    if (i != 0) seen[i] = sched_getcpu();
  });
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], (*pool)->cpus()[i]) << "thread " << i;
  }
}

TEST(ThreadPoolTest, EveryIndexRunsOncePerRun) {
  for (size_t threads : {1, 2, 3, 4, 7}) {
    auto pool = MakeUnpinned(threads);
    ASSERT_EQ(pool->NumThreads(), threads);
    std::vector<int> counts(threads, 0);
    for (int round = 0; round < 1000; ++round) {
      pool->Run([&](size_t i) { ++counts[i]; });  // Each i is one thread's.
    }
    for (size_t i = 0; i < threads; ++i) EXPECT_EQ(counts[i], 1000);
  }
}

TEST(ThreadPoolTest, RunIsABarrier) {
  // Writes made by every thread in round r are visible to all in round r+1.
  constexpr size_t kThreads = 4;
  auto pool = MakeUnpinned(kThreads);
  std::vector<uint64_t> slots(kThreads, 0);
  uint64_t errors = 0;
  std::vector<uint64_t> local_errors(kThreads, 0);
  for (uint64_t round = 1; round <= 2000; ++round) {
    pool->Run([&](size_t i) {
      for (size_t j = 0; j < kThreads; ++j) {
        if (slots[j] != round - 1) ++local_errors[i];
      }
    });
    pool->Run([&](size_t i) { slots[i] = round; });
  }
  for (uint64_t e : local_errors) errors += e;
  EXPECT_EQ(errors, 0u);
}

TEST(ThreadPoolTest, WakesWorkersThatWentToSleep) {
  auto pool = MakeUnpinned(3, /*spin=*/1);  // Sleeps almost at once.
  std::atomic<int> total{0};
  for (int round = 0; round < 50; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    pool->Run([&](size_t) { total.fetch_add(1); });
  }
  EXPECT_EQ(total.load(), 150);
}

TEST(ThreadPoolTest, ShutsDownCleanlyWhetherSpinningOrSleeping) {
  for (int i = 0; i < 50; ++i) {
    auto spinning = MakeUnpinned(3, /*spin=*/1u << 30);
    spinning->Run([](size_t) {});
    auto sleeping = MakeUnpinned(3, /*spin=*/0);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }  // Destructors join; a hang would time the test out.
  SUCCEED();
}

TEST(ThreadPoolTest, StressAMillionBarrierRounds) {
  const size_t threads = std::max<size_t>(2, std::min<size_t>(4, AllowedCpus()));
  auto pool = MakeUnpinned(threads);
  std::vector<uint64_t> counts(threads, 0);
  for (size_t round = 0; round < kStressRounds; ++round) {
    pool->Run([&](size_t i) { ++counts[i]; });
  }
  for (size_t i = 0; i < threads; ++i) EXPECT_EQ(counts[i], kStressRounds);
}

}  // namespace
}  // namespace sparrow
