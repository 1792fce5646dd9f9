// The code generator: one pass over the decoded program, emitting x86-64 with
// xbyak.  Jumps to eBPF targets are patched at the end (rel32 forward, rel8 when
// a backward target is near); everything out of line (checks, fault exits) is a
// shared routine at the start of the code, entered with a call so that its
// return address names the faulting instruction.
//
// Register mapping (eBPF -> x86-64).  r1..r5 sit in the System V argument
// registers, so a helper call is `mov r9, ctx; call fn`; r6..r9 and r10 are
// callee-saved, so they survive helpers untouched:
//   r0 rax  r1 rdi  r2 rsi  r3 rdx  r4 rcx  r5 r8
//   r6 rbx  r7 r13  r8 r14  r9 r15  r10 rbp
//   r12: the ExecContext*   r9, r10, r11: scratch
#pragma once

#include <xbyak/xbyak.h>

#include <cstdint>
#include <span>
#include <vector>

#include "jit/fuse.h"
#include "jit/jit_internal.h"

namespace userbpf::jit::detail {

// x86 condition codes (the low nibble of Jcc).
enum Cond : uint8_t {
  kCondB = 0x2, kCondAE = 0x3, kCondE = 0x4, kCondNE = 0x5, kCondBE = 0x6, kCondA = 0x7,
  kCondL = 0xc, kCondGE = 0xd, kCondLE = 0xe, kCondG = 0xf,
};

// Code generation errors travel as xbyak's own exceptions up to compile().
[[noreturn]] inline void codegen_error(int err) { throw Xbyak::Error(err); }

class Compiler : public Xbyak::CodeGenerator {
 public:
  // More than any one eBPF instruction emits.
  static constexpr size_t kMaxInsnBytes = 512;

  // opts: its proofs and array lookup sites (read while compiling only).
  Compiler(const vm::interp::Program& prog, const vm::EngineOptions& opts, void* buf, size_t capacity);
  // Emits everything; throws Xbyak::Error if the buffer is too small.
  void emit_all();

  // Results, moved out once emit_all is done.
  std::vector<uint32_t> take_offsets() { return std::move(offsets_); }
  bool counting() const { return counting_; }
  std::vector<uint8_t> take_leaders() { return std::move(leader_); }
  std::vector<uint32_t> take_tails() { return std::move(tail_); }

 private:
  using Reg64 = Xbyak::Reg64;
  using Reg32 = Xbyak::Reg32;
  using Address = Xbyak::Address;
  using DInsn = vm::interp::DInsn;

  // ---- compiler.cpp: structure, jumps, routines ----
  void find_blocks();
  void emit_routines();
  void generate_routines();
  void emit_insn(size_t pc, isa::Kind kind);
  void avoid_jcc_erratum(size_t pc, isa::Kind kind);
  const Reg64& bpf(uint8_t r) const { return regs_[r]; }
  // isa::spec without its lookups: this runs once per instruction.
  const isa::InsnSpec& spec(isa::Op op) const { return *specs_[static_cast<size_t>(op)]; }
  uint32_t proof(size_t pc) const { return pc < proofs_.size() ? proofs_[pc] : 0; }
  // Short forward jump over a few bytes of cold code: returns the patch point.
  size_t jcc8(Cond c);
  size_t jmp8();
  void bind8(size_t at);
  // Jump / call to the code of instruction `target` (patched later when forward).
  void jump_to(size_t target, int cond);  // cond < 0: unconditional
  void call_insn(size_t target);
  void call_routine(size_t off);
  // Counting mode: fault unless ctx.insns_executed <= ctx.insn_budget, then
  // jump to `target` (or fall through when target is SIZE_MAX).
  void budget_then(size_t target);

  // ---- emit_alu.cpp ----
  void emit_alu(const DInsn& d, isa::Op op, size_t pc);
  void emit_divmod(const DInsn& d, bool is64, bool is_signed, bool is_mod, bool reg_src, bool nonzero);
  void emit_shift(const DInsn& d, bool is64, int kind, bool reg_src);
  void emit_endian(const DInsn& d, isa::Op op);
  void emit_fused(const Fusion& f);

  // Raw output for the x86_encode.h forms: emit_all reserves room for the
  // longest instruction before each one, so these never overflow.
  uint8_t* out() { return top_ + size_; }
  void put(uint8_t* end) { size_ = static_cast<size_t>(end - top_); }
  int xreg(uint8_t r) const { return regs_[r].getIdx(); }

  // ---- emit_mem.cpp ----
  // Where a load/store of `size` bytes at base + off goes: the eBPF base
  // register itself when proven (or inside the current frame), else r11 after
  // a check.  base is an x86 register number.
  struct MemRef {
    int base;
    int32_t disp;
  };
  MemRef mem_operand(uint8_t base, int32_t off, uint32_t size, bool write, size_t pc, bool atomic);
  void emit_load(const DInsn& d, isa::Op op, size_t pc);
  void emit_store(const DInsn& d, isa::Op op, size_t pc);
  void emit_atomic(const DInsn& d, isa::Op op, size_t pc);
  void emit_ld_packet(const DInsn& d, isa::Op op);

  // ---- emit_flow.cpp ----
  void emit_jump(const DInsn& d, isa::Op op, size_t pc);
  void save_args_if_unverified();
  void restore_args_if_unverified();
  void emit_call_helper(uint64_t fn, int32_t id);
  bool emit_array_lookup(const vm::ArrayLookupSite& s, uint64_t fn, int32_t id);
  void emit_callx(const DInsn& d);
  void emit_call_local(const DInsn& d);
  void emit_exit();
  void after_helper();

  const vm::interp::Program& prog_;
  std::span<const uint32_t> proofs_;
  std::span<const vm::ArrayLookupSite> array_sites_;
  size_t next_site_ = 0;  // first array site not emitted yet (sites are sorted by slot)
  const isa::InsnSpec* const* specs_;  // by isa::Op
  Reg64 regs_[isa::kNumRegs];          // eBPF register -> x86-64 register
  bool verified_ = false;  // every slot carries proof::kVerified
  bool counting_ = false;  // instructions are counted against ctx.insn_budget
  bool bmi2_ = false;
  size_t pc_ = 0;          // instruction being emitted
  std::vector<uint32_t> offsets_;
  std::vector<uint8_t> leader_;
  std::vector<uint32_t> tail_;
  struct Fixup {
    uint32_t at;      // position of the rel32
    uint32_t target;  // instruction slot
  };
  std::vector<Fixup> fixups_;
  FusionPlan fusion_;  // verified programs

  // Where the shared routines start: the same in every program (they are
  // emitted once per process and copied, see emit_routines).
  struct RoutineOffsets {
    size_t epilogue = 0, unwind = 0, zero_frame = 0;
    size_t helper_stop = 0, packet_exit = 0, budget = 0, call_depth = 0, fall_off = 0, unknown_callx = 0;
    size_t check[4][2] = {};  // [log2 size][write]
    size_t misaligned[4] = {};
  };
  RoutineOffsets rt_;
};

}  // namespace userbpf::jit::detail
