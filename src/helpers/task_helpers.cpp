// Time, randomness and "current task" helpers.  The current task is the calling
// thread: pid = thread id, tgid = process id, as the kernel reports them.
#include <linux/bpf.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ktime_get_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return clock_ns(CLOCK_MONOTONIC);
}
uint64_t ktime_get_boot_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return clock_ns(CLOCK_BOOTTIME);
}
uint64_t ktime_get_coarse_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return clock_ns(CLOCK_MONOTONIC_COARSE);
}
uint64_t ktime_get_tai_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return clock_ns(CLOCK_TAI);
}

// The kernel's tick rate is not visible from user space (CLK_TCK is USER_HZ,
// always 100).  CONFIG_HZ is taken from /boot/config-$(uname -r) when present,
// else 250 (the common distribution default).
uint64_t kernel_hz() {
  static const uint64_t hz = [] {
    utsname u{};
    if (uname(&u) != 0) return uint64_t{250};
    FILE* f = std::fopen((std::string("/boot/config-") + u.release).c_str(), "r");
    if (!f) return uint64_t{250};
    uint64_t v = 250;
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, "CONFIG_HZ=", 10) == 0) v = std::strtoull(line + 10, nullptr, 10);
    std::fclose(f);
    return v ? v : uint64_t{250};
  }();
  return hz;
}

// jiffies_64 starts at INITIAL_JIFFIES (2^32 - 300 * HZ, so that 32-bit jiffies
// wrap five minutes after boot) and advances HZ times a second with
// CLOCK_MONOTONIC.
uint64_t jiffies64(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  const uint64_t hz = kernel_hz();
  const uint64_t initial = (uint64_t{1} << 32) - 300 * hz;
  const uint64_t ns = clock_ns(CLOCK_MONOTONIC);
  return initial + (ns / 1'000'000'000ull) * hz + (ns % 1'000'000'000ull) * hz / 1'000'000'000ull;
}

// Per-thread splitmix64: no locking, distinct streams per thread.
uint64_t get_prandom_u32(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(gettid());
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

uint64_t get_smp_processor_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return static_cast<uint64_t>(maps::current_cpu());
}

uint64_t get_numa_node_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  unsigned cpu = 0, node = 0;
  if (getcpu(&cpu, &node) != 0) return 0;
  return node;
}

uint64_t get_current_pid_tgid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(getpid())) << 32) | static_cast<uint32_t>(gettid());
}

uint64_t get_current_uid_gid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) {
  return (static_cast<uint64_t>(getgid()) << 32) | getuid();
}

// strscpy_pad of the thread's comm into buf: at most size-1 bytes, NUL, zero
// padding.  size 0 (the verifier would refuse it) is -EINVAL.
uint64_t get_current_comm(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const uint32_t size = static_cast<uint32_t>(r2);
  if (size == 0) return err(EINVAL);
  uint8_t* buf = program_write_ptr(ctx, r1, size);
  if (!buf) return err(EFAULT);
  char comm[17] = {};  // TASK_COMM_LEN + 1
  if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0) {
    std::memset(buf, 0, size);
    return err(EINVAL);
  }
  const size_t len = std::min<size_t>(std::strlen(comm), size - 1);
  std::memcpy(buf, comm, len);
  std::memset(buf + len, 0, size - len);
  return 0;
}

}  // namespace

void register_task_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_ktime_get_ns, ktime_get_ns);
  add(reg, BPF_FUNC_ktime_get_boot_ns, ktime_get_boot_ns);
  add(reg, BPF_FUNC_ktime_get_coarse_ns, ktime_get_coarse_ns);
  add(reg, BPF_FUNC_ktime_get_tai_ns, ktime_get_tai_ns);
  add(reg, BPF_FUNC_jiffies64, jiffies64);
  add(reg, BPF_FUNC_get_prandom_u32, get_prandom_u32);
  add(reg, BPF_FUNC_get_smp_processor_id, get_smp_processor_id);
  add(reg, BPF_FUNC_get_numa_node_id, get_numa_node_id);
  add(reg, BPF_FUNC_get_current_pid_tgid, get_current_pid_tgid);
  add(reg, BPF_FUNC_get_current_uid_gid, get_current_uid_gid);
  add(reg, BPF_FUNC_get_current_comm, get_current_comm);
}

}  // namespace userbpf::helpers::detail
