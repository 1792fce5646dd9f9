// Internal form of a program for the checked interpreter: decoded once at build
// time so that run() dispatches on a dense op index with no table lookups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace userbpf::vm::interp {

// Dispatch indexes: every isa::Op, then two pseudo ops the decoder plants.
enum : uint8_t {
  kOpFallOff = static_cast<uint8_t>(isa::kNumOps),  // slot past the last insn: pc == size
  kOpLddwHi,                                        // second slot of an lddw (never reached)
  kNumDispatchOps,
};
static_assert(isa::kNumOps < 250, "dispatch index must fit in a byte");

// One decoded slot (16 bytes, so two per cache line pair and cheap to index).
struct DInsn {
  uint8_t op = kOpFallOff;
  uint8_t dst = 0;
  uint8_t src = 0;  // for callx: the register holding the helper id
  uint8_t pad = 0;
  int32_t off = 0;  // memory offset, or absolute target slot for jumps and local calls
  uint64_t imm = 0; // imm sign-extended to 64 bits, the lddw value, or the helper's HelperFn
};
static_assert(sizeof(DInsn) == 16);

struct Program {
  std::vector<isa::Insn> raw;   // original slots, for disassembly in error messages
  std::vector<DInsn> code;      // raw.size() + 1 entries: the last is the fall-off sentinel
  std::vector<uint32_t> func_entries;  // slot 0 plus every bpf-to-bpf call target, sorted
  const HelperRegistry* helpers = nullptr;  // for callx, resolved at run time
};

// Why a run stopped abnormally; turned into an Error off the hot path.
enum class FaultKind : uint8_t { Memory, Misaligned, Budget, CallDepth, FallOff, BadSlot, UnknownCallx };

struct Fault {
  FaultKind kind = FaultKind::FallOff;
  size_t pc = 0;
  uint64_t addr = 0;   // Memory/Misaligned: the address; UnknownCallx: the helper id
  uint32_t size = 0;
  bool write = false;
};

// Where execution starts: slot 0 with ctx.args for run(), a callback's entry
// for call_function().
struct Entry {
  size_t pc = 0;
  const uint64_t* args = nullptr;  // r1..r5
  int depth = 0;                   // frames in use by the callers (count against kMaxCallDepth)
  uint64_t executed = 0;           // instructions already counted in this run: one budget for all
};

// Validates and decodes a program (interpreter.cpp); the JIT compiles from the
// same decoded form, so both engines refuse the same programs with the same words.
Result<Program> build_program(std::span<const isa::Insn> prog, const EngineOptions& opts);

// Frames used by the runs this thread is nested in (callbacks calling helpers
// that call back again), shared by the engines.
extern thread_local int t_outer_frames;

// The hot loop (interpreter_run.cpp).
Result<uint64_t> execute(const Program& prog, ExecContext& ctx, const Entry& entry);

// Engine::call_function for the interpreter (interpreter.cpp).
Result<uint64_t> call_function(const Program& prog, ExecContext& ctx, uint64_t entry, const uint64_t args[5]);

// What Engine::call_function does around the engine's own run, for both
// engines: checks the entry and the call depth, gives the callee its own stack
// while the caller's (where callback_ctx usually lives) stays reachable as a
// region, and counts frames across nested runs.  `run(caller_frames)` runs
// the callee.
template <typename Run>
Result<uint64_t> run_callback(const Program& p, ExecContext& ctx, uint64_t entry, Run&& run) {
  // Any slot that starts an instruction: after relocation the runtime's lddw
  // function addresses are plain constants, so entries are not all known here.
  if (entry >= p.raw.size() || p.code[static_cast<size_t>(entry)].op == kOpLddwHi)
    return make_error(ErrorKind::Runtime, "callback address " + std::to_string(entry) +
                                              " is not an instruction of the program");
  const uintptr_t lo = ctx.stack_lo, hi = ctx.stack_hi;
  const int live = hi > lo ? static_cast<int>((hi - lo) / isa::kStackSize) : 0;
  const int caller_frames = t_outer_frames + live;
  if (caller_frames >= isa::kMaxCallDepth)
    return make_error(ErrorKind::Runtime, "callback at insn " + std::to_string(entry) + ": call depth exceeds " +
                                              std::to_string(isa::kMaxCallDepth),
                      static_cast<int64_t>(entry));
  if (live) ctx.regions.push_back(Region{lo, hi - lo, true, "caller stack"});
  const int saved = t_outer_frames;
  t_outer_frames = caller_frames;
  Result<uint64_t> r = run(caller_frames);
  t_outer_frames = saved;
  if (live)
    for (size_t i = ctx.regions.size(); i-- > 0;)
      if (ctx.regions[i].start == lo && ctx.regions[i].size == hi - lo) {
        ctx.regions.erase(ctx.regions.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
  ctx.stack_lo = lo;
  ctx.stack_hi = hi;
  return r;
}

// Builds the user-facing error for a fault (interpreter.cpp); ctx still holds the
// live stack bounds of the faulting run.
Error describe_fault(const Program& prog, const ExecContext& ctx, const Fault& f);

}  // namespace userbpf::vm::interp
