// Code generator core: block structure for instruction counting, the shared
// routines (entry trampoline, unwinding, memory checks, fault exits), the
// per-instruction dispatch and jump patching.
#include "jit/compiler.h"

#include "jit/x86_encode.h"

#include <xbyak/xbyak_util.h>

#include <array>
#include <atomic>
#include <cstring>

namespace userbpf::jit::detail {

using isa::Op;
using vm::interp::kOpLddwHi;

static_assert(sizeof(bool) == 1, "generated code tests ctx.stop as a byte");

const CtxLayout& ctx_layout() {
  static const CtxLayout layout = [] {
    vm::ExecContext c;
    const char* base = reinterpret_cast<const char*>(&c);
    auto off = [base](const void* field) { return static_cast<int32_t>(static_cast<const char*>(field) - base); };
    return CtxLayout{off(&c.stack_lo), off(&c.stack_hi), off(&c.stop), off(&c.insns_executed), off(&c.insn_budget)};
  }();
  return layout;
}

namespace {

bool host_has_bmi2() {
  static const bool has = Xbyak::util::Cpu().has(Xbyak::util::Cpu::tBMI2);
  return has;
}

std::atomic<bool> g_bmi2_allowed{true};


// eBPF register -> x86-64 register (see compiler.h).
constexpr int kRegMap[isa::kNumRegs] = {
    Xbyak::Operand::RAX, Xbyak::Operand::RDI, Xbyak::Operand::RSI, Xbyak::Operand::RDX,
    Xbyak::Operand::RCX, Xbyak::Operand::R8,  Xbyak::Operand::RBX, Xbyak::Operand::R13,
    Xbyak::Operand::R14, Xbyak::Operand::R15, Xbyak::Operand::RBP,
};

}  // namespace

void allow_bmi2_for_testing(bool allowed) { g_bmi2_allowed = allowed; }

const isa::InsnSpec* const* spec_table() {
  static const auto table = [] {
    std::array<const isa::InsnSpec*, isa::kNumOps> t{};
    for (size_t i = 0; i < isa::kNumOps; ++i) t[i] = &isa::spec(static_cast<isa::Op>(i));
    return t;
  }();
  return table.data();
}

Compiler::Compiler(const vm::interp::Program& prog, const vm::EngineOptions& opts, void* buf, size_t capacity)
    : Xbyak::CodeGenerator(capacity, buf),
      prog_(prog),
      proofs_(opts.proofs),
      array_sites_(opts.array_lookups),
      specs_(spec_table()) {
  for (int r = 0; r < isa::kNumRegs; ++r) regs_[r] = Reg64(kRegMap[r]);
  const size_t n = prog.raw.size();
  const std::span<const uint32_t> proofs = opts.proofs;
  verified_ = proofs.size() == n && n > 0;
  for (size_t i = 0; verified_ && i < n; ++i)
    if (!(proofs[i] & vm::proof::kVerified)) verified_ = false;
  // Without the verifier's word that every path ends, count like the interpreter.
  counting_ = !verified_;
  bmi2_ = host_has_bmi2() && g_bmi2_allowed;
}

// Blocks end at every jump, call, exit and legacy packet load (which may end
// the program): the interpreter's instruction count is exact at those points,
// where it is compared with the budget or handed to helpers.
void Compiler::find_blocks() {
  const size_t n = prog_.raw.size();
  leader_.assign(n + 1, 0);
  tail_.assign(n + 1, 0);
  leader_[0] = 1;
  for (size_t pc = 0; pc < n; ++pc) {
    const DInsn& d = prog_.code[pc];
    if (d.op == kOpLddwHi) continue;
    const Op op = static_cast<Op>(d.op);
    const size_t next = pc + (op == Op::LDDW ? 2 : 1);
    switch (spec(op).kind) {
      case isa::Kind::Jump:
        leader_[static_cast<size_t>(d.off)] = 1;
        leader_[next] = 1;
        break;
      case isa::Kind::Call:
        if (op == Op::CALL_LOCAL) leader_[static_cast<size_t>(d.off)] = 1;
        leader_[next] = 1;
        break;
      case isa::Kind::Exit:
      case isa::Kind::LegacyLoad: leader_[next] = 1; break;
      default: break;
    }
  }
  for (size_t pc = n; pc-- > 0;) {
    const DInsn& d = prog_.code[pc];
    if (d.op == kOpLddwHi) continue;
    const size_t next = pc + (static_cast<Op>(d.op) == Op::LDDW ? 2 : 1);
    tail_[pc] = 1 + (next < n && !leader_[next] ? tail_[next] : 0);
  }
}

size_t Compiler::jcc8(Cond c) {
  db(0x70 | c);
  db(0);
  return getSize();
}

size_t Compiler::jmp8() {
  db(0xEB);
  db(0);
  return getSize();
}

void Compiler::bind8(size_t at) {
  const size_t d = getSize() - at;
  if (d > 127) codegen_error(Xbyak::ERR_LABEL_IS_TOO_FAR);
  top_[at - 1] = static_cast<uint8_t>(d);
}

void Compiler::jump_to(size_t target, int cond) {
  const bool backward = target <= pc_;  // (or to itself): the offset is known
  if (backward) {
    const int64_t short_disp = static_cast<int64_t>(offsets_[target]) - static_cast<int64_t>(getSize() + 2);
    if (short_disp >= -128) {
      db(cond < 0 ? 0xEB : (0x70 | cond));
      db(static_cast<uint8_t>(short_disp));
      return;
    }
  }
  if (cond < 0) {
    db(0xE9);
  } else {
    db(0x0F);
    db(0x80 | cond);
  }
  if (backward) {
    dd(static_cast<uint32_t>(static_cast<int64_t>(offsets_[target]) - static_cast<int64_t>(getSize() + 4)));
    return;
  }
  fixups_.push_back({static_cast<uint32_t>(getSize()), static_cast<uint32_t>(target)});
  dd(0);
}

void Compiler::call_insn(size_t target) {
  db(0xE8);
  if (target <= pc_) {
    dd(static_cast<uint32_t>(static_cast<int64_t>(offsets_[target]) - static_cast<int64_t>(getSize() + 4)));
    return;
  }
  fixups_.push_back({static_cast<uint32_t>(getSize()), static_cast<uint32_t>(target)});
  dd(0);
}

void Compiler::call_routine(size_t off) {
  uint8_t* p = out();
  *p++ = 0xE8;
  put(x86::imm32(p, static_cast<uint32_t>(static_cast<int64_t>(off) - static_cast<int64_t>(getSize() + 5))));
}

void Compiler::budget_then(size_t target) {
  const CtxLayout& L = ctx_layout();
  uint8_t* p = x86::op_rm64(out(), 0x8B, 11, 12, L.insns_executed);  // mov r11, [r12 + insns_executed]
  put(x86::op_rm64(p, 0x3B, 11, 12, L.insn_budget));                 // cmp r11, [r12 + insn_budget]
  if (target != SIZE_MAX) {
    jump_to(target, kCondBE);
    call_routine(rt_.budget);
    return;
  }
  const size_t ok = jcc8(kCondBE);
  call_routine(rt_.budget);
  bind8(ok);
}

// The routines depend on nothing but the process (ExecContext layout, the
// address of in_regions): generated by the first compiler, copied after.
void Compiler::emit_routines() {
  struct Cached {
    std::vector<uint8_t> code;
    RoutineOffsets at;
  };
  static const Cached cached = [this] {
    generate_routines();
    return Cached{std::vector<uint8_t>(top_, top_ + getSize()), rt_};
  }();
  if (getSize() != 0) return;  // this compiler generated them
  std::memcpy(top_, cached.code.data(), cached.code.size());
  size_ = cached.code.size();
  rt_ = cached.at;
}

void Compiler::generate_routines() {
  const CtxLayout& L = ctx_layout();
  // Callers built with clang's -fsanitize=function read the 8 bytes before an
  // indirect call's target for a type signature: keep them mapped (int3, so no
  // signature is found and the check is skipped).
  for (size_t i = 0; i < kEntryOffset; ++i) db(0xCC);
  // Entry trampoline (EntryFn): save the callee-saved registers, load r1..r5,
  // zero r0, r6..r9 and the first frame (as the interpreter starts), r10 =
  // stack top, and call the first instruction; an eBPF exit at the base frame
  // returns here.
  push(rbx);
  push(rbp);
  push(r12);
  push(r13);
  push(r14);
  push(r15);
  mov(qword[rdx + offsetof(JitRun, saved_rsp)], rsp);
  mov(r12, rdi);
  mov(rbp, rdx);
  mov(r10, rcx);
  // The first frame starts zeroed (16-byte stores: memset's rep stos is slower here).
  pxor(xmm0, xmm0);
  for (int i = 1; i <= isa::kStackSize / 16; ++i) movaps(ptr[rbp - i * 16], xmm0);
  mov(rdi, qword[rsi]);
  mov(rdx, qword[rsi + 16]);
  mov(rcx, qword[rsi + 24]);
  mov(r8, qword[rsi + 32]);
  mov(rsi, qword[rsi + 8]);
  xor_(eax, eax);
  xor_(ebx, ebx);
  xor_(r13d, r13d);
  xor_(r14d, r14d);
  xor_(r15d, r15d);
  call(r10);
  rt_.epilogue = getSize();
  pop(r15);
  pop(r14);
  pop(r13);
  pop(r12);
  pop(rbp);
  pop(rbx);
  ret();

  // Unwind from any depth: r10d = status word, r11 = address, [rsp] = the
  // return address of the call into the routine (which instruction).
  rt_.unwind = getSize();
  mov(r9, qword[r12 + L.stack_hi]);
  mov(dword[r9 + offsetof(JitRun, status)], r10d);
  mov(r10, qword[rsp]);
  mov(qword[r9 + offsetof(JitRun, native)], r10);
  mov(qword[r9 + offsetof(JitRun, addr)], r11);
  mov(rsp, qword[r9 + offsetof(JitRun, saved_rsp)]);
  db(0xE9);
  dd(static_cast<uint32_t>(static_cast<int64_t>(rt_.epilogue) - static_cast<int64_t>(getSize() + 4)));

  auto status_routine = [this](uint32_t word) {
    const size_t at = getSize();
    mov(r10d, word);
    db(0xE9);
    dd(static_cast<uint32_t>(static_cast<int64_t>(rt_.unwind) - static_cast<int64_t>(getSize() + 4)));
    return at;
  };
  rt_.helper_stop = status_routine(kHelperStop);
  rt_.packet_exit = getSize();
  xor_(eax, eax);
  status_routine(kPacketExit);
  rt_.budget = status_routine(kBudget);
  rt_.call_depth = status_routine(kCallDepth);
  rt_.fall_off = status_routine(kFallOff);
  rt_.unknown_callx = status_routine(kUnknownCallx);
  for (uint32_t i = 0; i < 4; ++i) rt_.misaligned[i] = status_routine(kMisaligned | (1u << i) << 8);

  // Memory checks, address in r11: the live stack inline, then the regions in
  // C++ (helpers may add regions during a run).  Every register but r10 and
  // flags survives.  Entered with rsp = 8 mod 16; nine pushes realign it.
  const Reg64 saved[] = {rax, rdi, rsi, rdx, rcx, r8, r9, r10, r11};
  for (uint32_t i = 0; i < 4; ++i) {
    for (uint32_t w = 0; w < 2; ++w) {
      const uint32_t size = 1u << i;
      rt_.check[i][w] = getSize();
      cmp(r11, qword[r12 + L.stack_lo]);
      const size_t below = jcc8(kCondB);
      lea(r10, ptr[r11 + size]);
      cmp(r10, r11);
      const size_t wraps = jcc8(kCondB);
      cmp(r10, qword[r12 + L.stack_hi]);
      const size_t above = jcc8(kCondA);
      ret();
      bind8(below);
      bind8(wraps);
      bind8(above);
      for (const Reg64& r : saved) push(r);
      mov(rdi, r12);
      mov(rsi, r11);
      mov(edx, size | w << 8);
      mov(rax, reinterpret_cast<uint64_t>(&in_regions));
      call(rax);
      test(al, al);
      for (size_t k = std::size(saved); k-- > 0;) pop(saved[k]);  // pops keep the flags
      const size_t fault = jcc8(kCondE);
      ret();
      bind8(fault);
      status_routine(kMemory | (size | w << 8) << 8);
    }
  }

  // Zeroes the 512-byte frame at r10 (64-byte aligned) for a bpf-to-bpf call:
  // frames start zeroed in the interpreter too, so runs are deterministic.
  rt_.zero_frame = getSize();
  pxor(xmm0, xmm0);
  for (int i = 0; i < isa::kStackSize / 16; ++i) movaps(ptr[r10 + i * 16], xmm0);
  ret();
}

void Compiler::emit_insn(size_t pc, isa::Kind kind) {
  const DInsn& d = prog_.code[pc];
  const Op op = static_cast<Op>(d.op);
  switch (kind) {
    case isa::Kind::Alu: emit_alu(d, op, pc); break;
    case isa::Kind::Endian: emit_endian(d, op); break;
    case isa::Kind::Jump: emit_jump(d, op, pc); break;
    case isa::Kind::Call:
      if (op == Op::CALL_HELPER) {
        while (next_site_ < array_sites_.size() && array_sites_[next_site_].slot < pc) ++next_site_;
        const bool site = verified_ && next_site_ < array_sites_.size() && array_sites_[next_site_].slot == pc;
        if (!site || !emit_array_lookup(array_sites_[next_site_], d.imm, prog_.raw[pc].imm))
          emit_call_helper(d.imm, prog_.raw[pc].imm);
      }
      else if (op == Op::CALLX) emit_callx(d);
      else if (op == Op::CALL_LOCAL) emit_call_local(d);
      else codegen_error(Xbyak::ERR_BAD_COMBINATION);  // kfuncs are refused when decoding
      break;
    case isa::Kind::Exit: emit_exit(); break;
    case isa::Kind::LoadImm64: put(x86::mov_ri(out(), xreg(d.dst), d.imm)); break;
    case isa::Kind::LegacyLoad: emit_ld_packet(d, op); break;
    case isa::Kind::Load: emit_load(d, op, pc); break;
    case isa::Kind::Store:
    case isa::Kind::StoreReg: emit_store(d, op, pc); break;
    case isa::Kind::Atomic: emit_atomic(d, op, pc); break;
  }
}

// Skylake-derived cores do not keep a jump that crosses or ends on a 32-byte
// boundary in the decoded-uop cache (the JCC erratum's microcode fix), which
// costs tight loops dearly.  A jump instruction whose code (compare and branch,
// fused by the CPU) does so is emitted again behind NOPs that move it to the
// next 32-byte line; the code buffer starts page-aligned.
void Compiler::avoid_jcc_erratum(size_t pc, isa::Kind kind) {
  const size_t start = offsets_[pc], end = getSize();
  if (end - start > 32 || ((start >> 5) == ((end - 1) >> 5) && (end & 31) != 0)) return;
  while (!fixups_.empty() && fixups_.back().at >= start) fixups_.pop_back();
  size_ = start;
  put(x86::nops(out(), 32 - (start & 31)));
  emit_insn(pc, kind);
}

void Compiler::emit_all() {
  if (counting_) find_blocks();
  emit_routines();
  const CtxLayout& L = ctx_layout();
  const size_t n = prog_.raw.size();
  offsets_.assign(n + 1, 0);
  if (verified_) fusion_ = plan_fusions(prog_, proofs_, specs_);
  for (size_t pc = 0; pc < n; ++pc) {
    pc_ = pc;
    offsets_[pc] = static_cast<uint32_t>(getSize());
    if (prog_.code[pc].op == kOpLddwHi) continue;
    if (getSize() + kMaxInsnBytes > maxSize_) codegen_error(Xbyak::ERR_CODE_IS_TOO_BIG);
    if (!fusion_.action.empty() && fusion_.action[pc] != FusionPlan::kEmit) {
      if (fusion_.action[pc] >= FusionPlan::kFused) emit_fused(fusion_.fused[fusion_.action[pc] - FusionPlan::kFused]);
      continue;
    }
    if (counting_ && leader_[pc]) put(x86::add_mi64(out(), 12, L.insns_executed, static_cast<int32_t>(tail_[pc])));
    const isa::Kind kind = spec(static_cast<Op>(prog_.code[pc].op)).kind;
    emit_insn(pc, kind);
    if (!counting_ && (kind == isa::Kind::Jump || kind == isa::Kind::Exit)) avoid_jcc_erratum(pc, kind);
  }
  pc_ = n;
  offsets_[n] = static_cast<uint32_t>(getSize());
  call_routine(rt_.fall_off);
  for (const Fixup& f : fixups_) {
    const int32_t disp = static_cast<int32_t>(static_cast<int64_t>(offsets_[f.target]) - static_cast<int64_t>(f.at + 4));
    std::memcpy(top_ + f.at, &disp, sizeof disp);
  }
}

}  // namespace userbpf::jit::detail
