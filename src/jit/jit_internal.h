// Shared between the JIT's code generator and its engine: the per-run block the
// generated code reports through, the ExecContext layout it addresses, and the
// C++ slow paths it calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "userbpf/jit.h"
#include "vm/interpreter_internal.h"

namespace userbpf::jit::detail {

// Why generated code returned to the entry trampoline (JitRun::status, low byte).
enum RunStatus : uint32_t {
  kExit = 0,      // exit at the base frame, r0 in rax
  kHelperStop,    // a helper set ctx.stop
  kPacketExit,    // ld_abs / ld_ind out of bounds: the program ends with r0 = 0
  kMemory,        // out-of-bounds access (info: size | write << 8)
  kMisaligned,    // atomic on a misaligned address (info: size)
  kBudget,        // instruction budget exceeded
  kCallDepth,     // too many bpf-to-bpf frames
  kFallOff,       // ran past the last instruction
  kUnknownCallx,  // callx to an id with no helper
};

// One per run, placed right at the top of the run's eBPF stack so that
// generated code reaches it through ctx.stack_hi (no register spent on it).
struct JitRun {
  uint64_t saved_rsp = 0;  // native stack pointer inside the trampoline, for unwinding
  uint64_t floor = 0;      // lowest frame pointer a bpf-to-bpf call may set up
  uint64_t native = 0;     // return address of the call into a stop / fault routine
  uint64_t addr = 0;       // fault address, or the callx id
  uint32_t status = 0;     // RunStatus | info << 8
  uint32_t pad = 0;
};

// The eBPF stack of one run (all frames) followed by its JitRun.
struct alignas(64) RunArea {
  uint8_t stack[isa::kMaxCallDepth * isa::kStackSize];
  JitRun run;
};
static_assert(offsetof(RunArea, run) == sizeof(RunArea::stack), "the JitRun must sit at the stack top");

// Byte offsets of the ExecContext fields generated code touches (measured on an
// object: ExecContext is not standard layout, so offsetof is not portable).
struct CtxLayout {
  int32_t stack_lo, stack_hi, stop, insns_executed, insn_budget;
};
const CtxLayout& ctx_layout();

// The trampoline at kEntryOffset of every compiled program.
inline constexpr size_t kEntryOffset = 16;
using EntryFn = uint64_t (*)(vm::ExecContext* ctx, const uint64_t* args, JitRun* run, const void* target);

// What compile() produces; the engine owns the mapping.
struct Compiled {
  uint8_t* mem = nullptr;  // mapped read+exec
  size_t mapped = 0;       // bytes mapped
  size_t size = 0;         // bytes of code
  std::vector<uint32_t> offsets;  // per slot, plus the fall-off stub
  // Counting mode (unverified programs): which slots start a counted block, and
  // how many instructions run from each slot to the end of its block.
  bool counting = false;
  std::vector<uint8_t> leader;
  std::vector<uint32_t> tail;
};

// Generates the code for a decoded program.  opts.proofs is empty or one entry per slot.
Result<Compiled> compile(const vm::interp::Program& prog, const vm::EngineOptions& opts);
void release(Compiled& c);
// isa::spec by isa::Op as a table (no lookup per instruction).
const isa::InsnSpec* const* spec_table();

// Tests switch BMI2 (shlx/shrx/sarx) off to cover the shifts through cl on
// hosts that have it; affects engines built afterwards.
void allow_bmi2_for_testing(bool allowed);

// ---- C++ slow paths called from generated code (System V) ----------------------------
// Whether [addr, addr + size) lies in one of ctx's regions; sw = size | write << 8.
bool in_regions(const vm::ExecContext* ctx, uint64_t addr, uint32_t sw);
// Legacy packet load (big-endian); ok = 0 when out of bounds.
struct PacketLoad {
  uint64_t value;
  uint64_t ok;
};
PacketLoad load_packet(const vm::ExecContext* ctx, int32_t off, uint32_t size);
// The helper a callx names, or nullptr.
vm::HelperFn resolve_callx(const vm::HelperRegistry* built, const vm::ExecContext* ctx, uint64_t id);

}  // namespace userbpf::jit::detail
