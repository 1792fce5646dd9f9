// Shared by the standard helpers (src/helpers): argument checking, map handles,
// the fault-safe memory reader and the per-concept registration functions.
// Internal to src/helpers.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "userbpf/helpers.h"
#include "userbpf/maps.h"
#include "userbpf/runtime.h"
#include "userbpf/vm.h"

namespace userbpf::helpers::detail {

// Helpers return -errno in a u64 register.
inline uint64_t err(int e) { return static_cast<uint64_t>(-static_cast<int64_t>(e)); }
inline uint64_t ret(long v) { return static_cast<uint64_t>(static_cast<int64_t>(v)); }

inline runtime::RunState* run_state(const vm::ExecContext* ctx) {
  return ctx ? static_cast<runtime::RunState*>(ctx->user) : nullptr;
}

// Bytes from addr to the end of the region (or live stack) holding it, 0 when
// addr is in none (writable ones only when `write`).  For NUL-terminated
// arguments whose length is not passed.
uint64_t accessible_extent(const vm::ExecContext& ctx, uint64_t addr, bool write);

// Program memory the helper may use: [addr, addr+len) checked with
// ExecContext::accessible; nullptr when refused (len 0 is always fine).
inline const uint8_t* program_read_ptr(const vm::ExecContext* ctx, uint64_t addr, uint64_t len) {
  if (len == 0) return reinterpret_cast<const uint8_t*>(addr);
  return ctx->accessible(addr, len, false) ? reinterpret_cast<const uint8_t*>(addr) : nullptr;
}
inline uint8_t* program_write_ptr(const vm::ExecContext* ctx, uint64_t addr, uint64_t len) {
  if (len == 0) return reinterpret_cast<uint8_t*>(addr);
  return ctx->accessible(addr, len, true) ? reinterpret_cast<uint8_t*>(addr) : nullptr;
}

// A NUL-terminated string in program memory, at most `max` bytes before the NUL;
// false when it runs off accessible memory first or is longer.
bool program_cstr(const vm::ExecContext* ctx, uint64_t addr, uint64_t max, std::string_view& out);

// The map a program passes as a map argument, or nullptr when r1 is not a live
// map this run may use: a map of the running object, or an inner map handed out
// by a map-in-map lookup earlier on this thread.  Never dereferences an unknown
// pointer, so a forged "map" cannot crash the host.
maps::Map* map_arg(vm::ExecContext* ctx, uint64_t r);
// Remembers an inner map returned by a map-in-map lookup (and makes its memory
// accessible to the program) so that map_arg accepts it.
void note_inner_map(vm::ExecContext* ctx, maps::Map* m);

// Whether the kernel's verifier lets helper `func` take a map of this type
// (check_map_func_compatibility); helpers refuse others with -EINVAL at run time.
bool map_func_compatible(uint32_t map_type, int32_t func);

// Fault-safe reads of this process's memory (process_vm_readv, /proc/self/mem
// as a fallback): never faults, whatever the address.
bool safe_read(void* dst, uint64_t src, size_t len);
// Reads a NUL-terminated string of at most max-1 bytes into dst[0..max) and
// NUL-terminates it; returns the length including the NUL, or -EFAULT when a
// byte before the NUL (and before max-1 bytes) cannot be read.  max >= 1.
long safe_read_str(char* dst, uint64_t src, size_t max);

// The kernel's bpf_bprintf_prepare + bstr_printf: validates fmt (kernel rules:
// printable ASCII, %[-+ 0][width](d|i|u|x|X with l/ll, c, s, p, px, pK, ps,
// pS, pks, pus, pi4, pI4, pi6, pI6), %%), consumes one u64 per conversion and
// appends the formatted text to out.  0, or -EINVAL for a bad format or too
// few arguments.
long bprintf(std::string_view fmt, const uint64_t* args, size_t nargs, std::string& out);
inline constexpr size_t kMaxBprintfBuf = 512;  // MAX_BPRINTF_BUF
inline constexpr size_t kMaxBprintfArgs = 12;  // MAX_BPRINTF_VARARGS

// Per-concept registration (one file each).
void register_map_helpers(vm::HelperRegistry& reg);
void register_task_helpers(vm::HelperRegistry& reg);  // time, random, cpu, pid, comm
void register_printk_helpers(vm::HelperRegistry& reg);
void register_string_helpers(vm::HelperRegistry& reg);
void register_ringbuf_perf_helpers(vm::HelperRegistry& reg);
void register_probe_read_helpers(vm::HelperRegistry& reg);
void register_control_helpers(vm::HelperRegistry& reg);  // tail_call, loop, for_each_map_elem

// reg.add with the kernel's name for the id.
void add(vm::HelperRegistry& reg, int32_t id, vm::HelperFn fn);

}  // namespace userbpf::helpers::detail
