// Locks that live inside a map's shared-memory block.  pthread mutexes would need
// PTHREAD_PROCESS_SHARED setup and robust-mutex care; a 32-bit atomic word works
// the same in every process that maps the block, holds no pointers and is valid
// when zero-filled (a fresh memfd is all zeros = unlocked).  Internal to src/maps.
#pragma once

#include <atomic>
#include <cstdint>
#include <sched.h>

namespace userbpf::maps {

// One step of back-off while spinning: a CPU pause at first, then yield so a
// preempted lock holder on a busy (2-core) machine can run.
inline void shm_backoff(uint32_t& spins) {
  if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  } else {
    sched_yield();
  }
}

// 0 = free, 1 = held.
struct ShmSpinLock {
  std::atomic<uint32_t> v{0};

  bool try_lock() {
    uint32_t expected = 0;
    return v.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void lock() {
    uint32_t spins = 0;
    for (;;) {
      if (v.load(std::memory_order_relaxed) == 0 && try_lock()) return;
      shm_backoff(spins);
    }
  }
  void unlock() { v.store(0, std::memory_order_release); }
};
static_assert(sizeof(ShmSpinLock) == 4 && std::atomic<uint32_t>::is_always_lock_free);

// Readers-writer lock: bit 31 = writer holds it, low bits = reader count.
// Writer-preferring is not needed for map use (short critical sections).
struct ShmRwLock {
  static constexpr uint32_t kWriter = 0x80000000u;
  std::atomic<uint32_t> v{0};

  void lock_shared() {
    uint32_t spins = 0;
    for (;;) {
      uint32_t cur = v.load(std::memory_order_relaxed);
      if (!(cur & kWriter) &&
          v.compare_exchange_weak(cur, cur + 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      shm_backoff(spins);
    }
  }
  void unlock_shared() { v.fetch_sub(1, std::memory_order_release); }
  void lock() {
    uint32_t spins = 0;
    for (;;) {
      uint32_t expected = 0;
      if (v.load(std::memory_order_relaxed) == 0 &&
          v.compare_exchange_weak(expected, kWriter, std::memory_order_acquire, std::memory_order_relaxed))
        return;
      shm_backoff(spins);
    }
  }
  void unlock() { v.store(0, std::memory_order_release); }
};
static_assert(sizeof(ShmRwLock) == 4);

// RAII guards (std::lock_guard would do for ShmSpinLock, this keeps the header
// free of <mutex> and covers the shared side of the rwlock too).
template <typename L>
class ShmGuard {
 public:
  explicit ShmGuard(L& l) : l_(l) { l_.lock(); }
  ~ShmGuard() { l_.unlock(); }
  ShmGuard(const ShmGuard&) = delete;
  ShmGuard& operator=(const ShmGuard&) = delete;

 private:
  L& l_;
};

class ShmSharedGuard {
 public:
  explicit ShmSharedGuard(ShmRwLock& l) : l_(l) { l_.lock_shared(); }
  ~ShmSharedGuard() { l_.unlock_shared(); }
  ShmSharedGuard(const ShmSharedGuard&) = delete;
  ShmSharedGuard& operator=(const ShmSharedGuard&) = delete;

 private:
  ShmRwLock& l_;
};

}  // namespace userbpf::maps
