// probe_read family.  There is no kernel memory here: every variant reads this
// process's memory, with a fault-safe reader (process_vm_readv on ourselves,
// /proc/self/mem where that is not permitted), so a bad pointer gives -EFAULT
// and a zero-filled destination, as in the kernel, never a crash.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

constexpr uint64_t kPage = 4096;  // chunk granularity for strings: never read past a NUL's page

bool read_proc_mem(void* dst, uint64_t src, size_t len) {
  static const int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || src > static_cast<uint64_t>(INT64_MAX) - len) return false;
  auto* out = static_cast<uint8_t*>(dst);
  while (len > 0) {
    const ssize_t n = pread(fd, out, len, static_cast<off_t>(src));
    if (n <= 0) return false;
    out += n;
    src += static_cast<uint64_t>(n);
    len -= static_cast<size_t>(n);
  }
  return true;
}

// probe_read / probe_read_user / probe_read_kernel / copy_from_user.
uint64_t probe_read(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const uint32_t size = static_cast<uint32_t>(r2);
  uint8_t* dst = program_write_ptr(ctx, r1, size);
  if (!dst) return err(EFAULT);
  if (size == 0) return 0;
  if (safe_read(dst, r3, size)) return 0;
  std::memset(dst, 0, size);
  return err(EFAULT);
}

// The _str variants: length including the NUL; size 0 reads nothing and is 0.
uint64_t probe_read_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const uint32_t size = static_cast<uint32_t>(r2);
  uint8_t* dst = program_write_ptr(ctx, r1, size);
  if (!dst) return err(EFAULT);
  if (size == 0) return 0;
  const long n = safe_read_str(reinterpret_cast<char*>(dst), r3, size);
  if (n < 0) std::memset(dst, 0, size);
  return ret(n);
}

}  // namespace

bool safe_read(void* dst, uint64_t src, size_t len) {
  if (len == 0) return true;
  if (src + len < src || src == 0) return false;
  iovec local{dst, len};
  iovec remote{reinterpret_cast<void*>(src), len};
  const ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n >= 0) return static_cast<size_t>(n) == len;
  if (errno == EFAULT || errno == ENOMEM || errno == EINVAL) return false;
  return read_proc_mem(dst, src, len);  // EPERM / ENOSYS: process_vm_readv not allowed here
}

long safe_read_str(char* dst, uint64_t src, size_t max) {
  // Through a bounce buffer: nothing after the NUL may land in dst.
  char chunk_buf[256];
  size_t done = 0;
  while (done + 1 < max) {
    const uint64_t at = src + done;
    if (at < src) return -EFAULT;
    size_t chunk = static_cast<size_t>(kPage - (at % kPage));
    chunk = std::min({chunk, max - 1 - done, sizeof chunk_buf});
    if (!safe_read(chunk_buf, at, chunk)) return -EFAULT;
    if (const void* nul = std::memchr(chunk_buf, 0, chunk)) {
      const size_t n = static_cast<size_t>(static_cast<const char*>(nul) - chunk_buf);
      std::memcpy(dst + done, chunk_buf, n + 1);
      return static_cast<long>(done + n + 1);
    }
    std::memcpy(dst + done, chunk_buf, chunk);
    done += chunk;
  }
  dst[max - 1] = '\0';
  return static_cast<long>(max);
}

void register_probe_read_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_probe_read, probe_read);
  add(reg, BPF_FUNC_probe_read_user, probe_read);
  add(reg, BPF_FUNC_probe_read_kernel, probe_read);
  add(reg, BPF_FUNC_copy_from_user, probe_read);
  add(reg, BPF_FUNC_probe_read_str, probe_read_str);
  add(reg, BPF_FUNC_probe_read_user_str, probe_read_str);
  add(reg, BPF_FUNC_probe_read_kernel_str, probe_read_str);
}

}  // namespace userbpf::helpers::detail
