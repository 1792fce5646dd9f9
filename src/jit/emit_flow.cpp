// Control flow: jumps, helper calls (direct System V calls), callx, bpf-to-bpf
// calls (a native call with r6..r9 and r10 pushed, a fresh zeroed 512-byte
// frame) and exit (a native ret; the base frame returns to the trampoline).
#include "jit/compiler.h"

#include "jit/x86_encode.h"

namespace userbpf::jit::detail {

using isa::Op;

namespace {

Cond cond_of(Op op) {
  switch (op) {
#define USERBPF_COND(NAME, CC) \
  case Op::NAME##64_IMM:       \
  case Op::NAME##64_REG:       \
  case Op::NAME##32_IMM:       \
  case Op::NAME##32_REG: return CC;
    USERBPF_COND(JEQ, kCondE)
    USERBPF_COND(JNE, kCondNE)
    USERBPF_COND(JGT, kCondA)
    USERBPF_COND(JGE, kCondAE)
    USERBPF_COND(JLT, kCondB)
    USERBPF_COND(JLE, kCondBE)
    USERBPF_COND(JSGT, kCondG)
    USERBPF_COND(JSGE, kCondGE)
    USERBPF_COND(JSLT, kCondL)
    USERBPF_COND(JSLE, kCondLE)
    USERBPF_COND(JSET, kCondNE)
#undef USERBPF_COND
    default: return kCondE;
  }
}

bool is_jset(Op op) {
  return op == Op::JSET64_IMM || op == Op::JSET64_REG || op == Op::JSET32_IMM || op == Op::JSET32_REG;
}

}  // namespace

vm::HelperFn resolve_callx(const vm::HelperRegistry* built, const vm::ExecContext* ctx, uint64_t id) {
  const vm::HelperRegistry* reg = built ? built : ctx->helpers;
  const vm::HelperInfo* h =
      reg && id < static_cast<uint64_t>(isa::kMaxHelperId) ? reg->find(static_cast<int32_t>(id)) : nullptr;
  return h ? h->fn : nullptr;
}

// In counting mode a taken jump first compares the count with the budget, as
// the interpreter does on every taken jump.
void Compiler::emit_jump(const DInsn& d, Op op, size_t) {
  const size_t target = static_cast<size_t>(d.off);
  if (op == Op::JA || op == Op::JA32) {
    if (counting_) budget_then(target);
    else jump_to(target, -1);
    return;
  }
  const isa::InsnSpec& s = spec(op);
  const bool is64 = s.width == 64;
  const int xd = xreg(d.dst);
  if (s.uses_src_reg) {
    put(x86::op_rr(out(), is_jset(op) ? x86::kTest : x86::kCmp, xd, xreg(d.src), is64));
  } else {
    const uint32_t imm = static_cast<uint32_t>(d.imm);  // sign-extended by the CPU in 64-bit compares
    if (is_jset(op)) put(x86::test_ri(out(), xd, imm, is64));
    else if (imm == 0) put(x86::op_rr(out(), x86::kTest, xd, xd, is64));
    else put(x86::op_ri(out(), x86::kExtCmp, xd, static_cast<int32_t>(imm), is64));
  }
  const Cond cc = cond_of(op);
  if (!counting_) {
    jump_to(target, cc);
    return;
  }
  const size_t not_taken = jcc8(static_cast<Cond>(cc ^ 1));
  budget_then(target);
  bind8(not_taken);
}

// After every helper: a helper that set ctx.stop (tail call, unwind, a fault
// in a callback) ends the run.
void Compiler::after_helper() {
  uint8_t* p = x86::rex(out(), false, 0, 12);  // cmp byte [r12 + stop], 0
  *p++ = 0x80;
  p = x86::mem(p, 7, 12, ctx_layout().stop);
  *p++ = 0;
  put(p);
  const size_t ok = jcc8(kCondE);
  call_routine(r_helper_stop_);
  bind8(ok);
}

// Unverified programs may read r1..r5 after a call, and the interpreter keeps
// them: save them around the call (six slots keep rsp 16-byte aligned).
void Compiler::save_args_if_unverified() {
  if (verified_) return;
  push(rdi);
  push(rsi);
  push(rdx);
  push(rcx);
  push(r8);
  sub(rsp, 8);
}

void Compiler::restore_args_if_unverified() {
  if (verified_) return;
  add(rsp, 8);
  pop(r8);
  pop(rcx);
  pop(rdx);
  pop(rsi);
  pop(rdi);
}

void Compiler::emit_call_helper(uint64_t fn, int32_t id) {
  // A verified program calls the variant that trusts what the verifier proved.
  if (verified_ && prog_.helpers)
    if (const vm::HelperInfo* h = prog_.helpers->find(id); h && h->trusted) fn = reinterpret_cast<uint64_t>(h->trusted);
  save_args_if_unverified();
  uint8_t* p = x86::op_rr(out(), x86::kMov, 9, 12, true);  // mov r9, r12 (the ExecContext*)
  p = x86::mov_ri(p, 10, fn);
  *p++ = 0x41;  // call r10
  *p++ = 0xFF;
  *p++ = 0xD2;
  put(p);
  restore_args_if_unverified();
  after_helper();
}

void Compiler::emit_callx(const DInsn& d) {
  mov(r11, bpf(d.src));  // the helper id
  push(rdi);
  push(rsi);
  push(rdx);
  push(rcx);
  push(r8);
  push(r11);
  mov(rdi, reinterpret_cast<uint64_t>(prog_.helpers));
  mov(rsi, r12);
  mov(rdx, r11);
  mov(rax, reinterpret_cast<uint64_t>(&resolve_callx));
  call(rax);
  mov(r10, rax);
  pop(r11);
  pop(r8);
  pop(rcx);
  pop(rdx);
  pop(rsi);
  pop(rdi);
  test(r10, r10);
  const size_t ok = jcc8(kCondNE);
  call_routine(r_unknown_callx_);
  bind8(ok);
  save_args_if_unverified();
  mov(r9, r12);
  call(r10);
  restore_args_if_unverified();
  after_helper();
}

// Depth first, then the budget (the interpreter's order); the callee's frame
// lies right below the caller's, and ctx.stack_lo follows so that helpers see
// the whole live stack.
void Compiler::emit_call_local(const DInsn& d) {
  const CtxLayout& L = ctx_layout();
  lea(r11, ptr[rbp - isa::kStackSize]);
  mov(r10, qword[r12 + L.stack_hi]);
  cmp(r11, qword[r10 + offsetof(JitRun, floor)]);
  const size_t deep_enough = jcc8(kCondAE);
  call_routine(r_call_depth_);
  bind8(deep_enough);
  if (counting_) budget_then(SIZE_MAX);
  push(rbx);
  push(r13);
  push(r14);
  push(r15);
  push(rbp);  // five pushes and the return address keep the callee's rsp aligned like ours
  sub(rbp, isa::kStackSize);
  lea(r10, ptr[rbp - isa::kStackSize]);
  mov(qword[r12 + L.stack_lo], r10);
  call_routine(zero_frame_);
  call_insn(static_cast<size_t>(d.off));
  pop(rbp);
  pop(r15);
  pop(r14);
  pop(r13);
  pop(rbx);
  lea(r10, ptr[rbp - isa::kStackSize]);
  mov(qword[r12 + L.stack_lo], r10);
}

// In counting mode the base frame's exit checks the budget, as the
// interpreter does when its run ends.
void Compiler::emit_exit() {
  if (counting_) {
    cmp(rbp, qword[r12 + ctx_layout().stack_hi]);
    const size_t inner = jcc8(kCondNE);
    budget_then(SIZE_MAX);
    bind8(inner);
  }
  db(0xC3);  // ret
}

}  // namespace userbpf::jit::detail
