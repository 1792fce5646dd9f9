// Control flow: jumps, helper calls (direct System V calls), callx, bpf-to-bpf
// calls (a native call with r6..r9 and r10 pushed, a fresh zeroed 512-byte
// frame) and exit (a native ret; the base frame returns to the trampoline).
#include "jit/compiler.h"

#include "jit/x86_encode.h"

#include <sys/rseq.h>

#include <climits>

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
  call_routine(rt_.helper_stop);
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
  // A verified program calls the variant that trusts what the verifier proved
  // (and never stops the run).
  bool trusted = false;
  if (verified_ && prog_.helpers)
    if (const vm::HelperInfo* h = prog_.helpers->find(id); h && h->trusted) {
      fn = reinterpret_cast<uint64_t>(h->trusted);
      trusted = true;
    }
  save_args_if_unverified();
  uint8_t* p = x86::op_rr(out(), x86::kMov, 9, 12, true);  // mov r9, r12 (the ExecContext*)
  p = x86::mov_ri(p, 10, fn);
  *p++ = 0x41;  // call r10
  *p++ = 0xFF;
  *p++ = 0xD2;
  put(p);
  restore_args_if_unverified();
  if (!trusted) after_helper();
}

// bpf_map_lookup_elem on an array map known at this call (verified programs:
// r2 points to a readable 4-byte key, r1..r5 are dead afterwards): r0 =
// values + key * stride (+ cpu * cpu_stride), or NULL past the end, as the
// kernel's array_map_gen_lookup computes it.  The CPU comes from the rseq area
// glibc registers for every thread (what sched_getcpu reads); without it, or
// when the CPU number is out of range, the helper is called.  False: not
// inlined (nothing emitted).
bool Compiler::emit_array_lookup(const vm::ArrayLookupSite& s, uint64_t fn, int32_t id) {
  const bool percpu = s.cpu_stride != 0;
  const int64_t cpu_disp = __rseq_size >= 8 ? static_cast<int64_t>(__rseq_offset) + 4 : INT64_MAX;
  if (s.stride > INT32_MAX || s.cpu_stride > INT32_MAX || s.max_entries > INT32_MAX) return false;
  if (percpu && (cpu_disp < INT32_MIN || cpu_disp > INT32_MAX || s.ncpus == 0 || s.ncpus > INT32_MAX)) return false;
  auto scale = [this](int r, uint64_t by) {  // r *= by (64-bit)
    if (by == 1) return;
    if ((by & (by - 1)) == 0) put(x86::shift_ri(out(), 4, r, static_cast<uint8_t>(__builtin_ctzll(by)), true));
    else put(x86::imul_rri(out(), r, r, static_cast<int32_t>(by), true));
  };
  uint8_t* p = out();
  *p++ = 0x8B;  // mov eax, [rsi]
  *p++ = 0x06;
  put(x86::op_ri(p, x86::kExtCmp, 0, static_cast<int32_t>(s.max_entries), false));
  const size_t past_end = jcc8(kCondAE);
  scale(0, s.stride);
  size_t slow = 0;
  if (percpu) {
    p = out();
    *p++ = 0x64;  // mov r11d, fs:[cpu_disp]
    *p++ = 0x44;
    *p++ = 0x8B;
    *p++ = 0x1C;
    *p++ = 0x25;
    put(x86::imm32(p, static_cast<uint32_t>(cpu_disp)));
    put(x86::op_ri(out(), x86::kExtCmp, 11, static_cast<int32_t>(s.ncpus), false));
    slow = jcc8(kCondAE);
    scale(11, s.cpu_stride);
    put(x86::op_rr(out(), x86::kAdd, 0, 11, true));
  }
  put(x86::mov_ri(out(), 11, reinterpret_cast<uint64_t>(s.values)));
  put(x86::op_rr(out(), x86::kAdd, 0, 11, true));
  const size_t done = jmp8();
  bind8(past_end);
  put(x86::op_rr(out(), x86::kXor, 0, 0, false));
  if (percpu) {
    const size_t done2 = jmp8();
    bind8(slow);
    emit_call_helper(fn, id);
    bind8(done2);
  }
  bind8(done);
  return true;
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
  call_routine(rt_.unknown_callx);
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
  call_routine(rt_.call_depth);
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
  call_routine(rt_.zero_frame);
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
