// trace_printk, trace_vprintk and snprintf on top of the bprintf engine
// (format.cpp).  Trace lines go to the run's trace sink, else to stderr.
#include <linux/bpf.h>
#include <unistd.h>

#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

// One line per call, as the trace buffer shows one event per line: a single
// trailing newline of the message is the line end, not part of it.
void emit(const vm::ExecContext* ctx, std::string_view msg) {
  if (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
  const runtime::RunState* st = run_state(ctx);
  if (st && st->trace && *st->trace) {
    (*st->trace)(msg);
    return;
  }
  std::string line(msg);
  line += '\n';
  const ssize_t n = write(STDERR_FILENO, line.data(), line.size());  // one write: lines stay whole across threads
  (void)n;
}

// The format argument of trace_printk/vprintk: fmt_size readable bytes holding a NUL.
long trace_fmt(const vm::ExecContext* ctx, uint64_t fmt, uint64_t fmt_size, std::string_view& out) {
  const uint32_t size = static_cast<uint32_t>(fmt_size);
  const uint8_t* p = program_read_ptr(ctx, fmt, size);
  if (!p || size == 0) return size == 0 ? -EINVAL : -EFAULT;
  const void* nul = std::memchr(p, 0, size);
  if (!nul) return -EINVAL;
  out = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(static_cast<const uint8_t*>(nul) - p));
  return 0;
}

// The u64 array of vprintk/snprintf: a multiple of 8 bytes, at most 12 values.
long data_args(const vm::ExecContext* ctx, uint64_t data, uint64_t data_len, uint64_t* args, size_t& n) {
  const uint32_t len = static_cast<uint32_t>(data_len);
  if ((len & 7) || len > kMaxBprintfArgs * 8 || (len && !data)) return -EINVAL;
  const uint8_t* p = program_read_ptr(ctx, data, len);
  if (!p) return -EFAULT;
  if (len) std::memcpy(args, p, len);
  n = len / 8;
  return 0;
}

uint64_t trace_out(const vm::ExecContext* ctx, std::string_view fmt, const uint64_t* args, size_t n) {
  std::string msg;
  if (long rc = bprintf(fmt, args, n, msg); rc < 0) return ret(rc);
  // Formatted into a MAX_BPRINTF_BUF buffer: the line is cut, the length is not.
  const size_t full = msg.size();
  emit(ctx, std::string_view(msg).substr(0, kMaxBprintfBuf - 1));
  return full;
}

uint64_t trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  std::string_view fmt;
  if (long rc = trace_fmt(ctx, r1, r2, fmt); rc < 0) return ret(rc);
  const uint64_t args[3] = {r3, r4, r5};
  return trace_out(ctx, fmt, args, 3);
}

uint64_t trace_vprintk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, vm::ExecContext* ctx) {
  uint64_t args[kMaxBprintfArgs];
  size_t n = 0;
  if (long rc = data_args(ctx, r3, r4, args, n); rc < 0) return ret(rc);
  std::string_view fmt;
  if (long rc = trace_fmt(ctx, r1, r2, fmt); rc < 0) return ret(rc);
  return trace_out(ctx, fmt, args, n);
}

// long bpf_snprintf(str, str_size, fmt, data, data_len): the formatted length
// plus one; str gets a truncated, NUL-terminated copy (nothing when size 0).
uint64_t bpf_snprintf(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, vm::ExecContext* ctx) {
  uint64_t args[kMaxBprintfArgs];
  size_t n = 0;
  if (long rc = data_args(ctx, r4, r5, args, n); rc < 0) return ret(rc);
  std::string_view fmt;
  if (!program_cstr(ctx, r3, UINT32_MAX, fmt)) return err(EFAULT);
  const uint32_t size = static_cast<uint32_t>(r2);
  char* str = reinterpret_cast<char*>(program_write_ptr(ctx, r1, size));
  if (!str) return err(EFAULT);
  std::string msg;
  if (long rc = bprintf(fmt, args, n, msg); rc < 0) return ret(rc);
  if (size > 0) {
    const size_t k = std::min<size_t>(msg.size(), size - 1);
    std::memcpy(str, msg.data(), k);
    str[k] = '\0';
  }
  return msg.size() + 1;
}

}  // namespace

void register_printk_helpers(vm::HelperRegistry& reg) {
  add(reg, BPF_FUNC_trace_printk, trace_printk);
  add(reg, BPF_FUNC_trace_vprintk, trace_vprintk);
  add(reg, BPF_FUNC_snprintf, bpf_snprintf);
}

}  // namespace userbpf::helpers::detail
