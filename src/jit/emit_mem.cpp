// Loads, stores, atomics and legacy packet loads, and the C++ slow paths the
// memory checks call.
#include "jit/compiler.h"

#include "jit/x86_encode.h"

namespace userbpf::jit::detail {

using isa::Op;

namespace {

uint32_t log2_size(uint32_t size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

}  // namespace

bool in_regions(const vm::ExecContext* ctx, uint64_t addr, uint32_t sw) {
  const uint64_t size = sw & 0xff;
  const bool write = (sw >> 8) & 1;
  for (const vm::Region& r : ctx->regions)
    if (r.size >= size && addr - r.start <= r.size - size && (r.writable || !write)) return true;
  return false;
}

PacketLoad load_packet(const vm::ExecContext* ctx, int32_t off, uint32_t size) {
  const std::span<const uint8_t> pkt = ctx->legacy_packet;
  if (off < 0 || static_cast<uint64_t>(off) + size > pkt.size()) return {0, 0};
  uint64_t v = 0;
  for (uint32_t i = 0; i < size; ++i) v = (v << 8) | pkt[static_cast<size_t>(off) + i];
  return {v, 1};
}

// Unchecked when the verifier proved the access, or when it is a constant
// offset from r10 inside the current frame (r10 is read-only, so that needs no
// proof).  Otherwise the address goes to r11 and through a check routine, plus
// the alignment test the interpreter applies to atomics.
Compiler::MemRef Compiler::mem_operand(uint8_t base, int32_t off, uint32_t size, bool write, size_t pc, bool atomic) {
  const bool in_frame = base == isa::kFramePointer && off >= -isa::kStackSize &&
                        off + static_cast<int32_t>(size) <= 0 && (!atomic || off % static_cast<int32_t>(size) == 0);
  if ((proof(pc) & vm::proof::kMemSafe) || in_frame) return {xreg(base), off};
  put(x86::lea(out(), 11, xreg(base), off));
  call_routine(rt_.check[log2_size(size)][write ? 1 : 0]);
  if (atomic) {
    test(r11b, static_cast<uint8_t>(size - 1));
    const size_t ok = jcc8(kCondE);
    call_routine(rt_.misaligned[log2_size(size)]);
    bind8(ok);
  }
  return {11, 0};
}

void Compiler::emit_load(const DInsn& d, Op op, size_t pc) {
  const int size = spec(op).width;
  const MemRef m = mem_operand(d.src, d.off, static_cast<uint32_t>(size), false, pc, false);
  const bool sign = op == Op::LDXSB || op == Op::LDXSH || op == Op::LDXSW;
  put(x86::load(out(), xreg(d.dst), m.base, m.disp, size, sign));
}

void Compiler::emit_store(const DInsn& d, Op op, size_t pc) {
  const int size = spec(op).width;
  const MemRef m = mem_operand(d.dst, d.off, static_cast<uint32_t>(size), true, pc, false);
  if (spec(op).kind == isa::Kind::Store)  // imm32, sign-extended for the 8-byte form
    put(x86::store_imm(out(), m.base, m.disp, size, static_cast<int32_t>(d.imm)));
  else
    put(x86::store(out(), xreg(d.src), m.base, m.disp, size));
}

// Atomics are the locked x86 forms; fetch-or/and/xor have no x86 instruction
// and loop on cmpxchg, borrowing rax (r0) unless src is r0 itself.  32-bit
// results are zero-extended like every 32-bit write.
void Compiler::emit_atomic(const DInsn& d, Op op, size_t pc) {
  const uint32_t size = spec(op).width;
  const bool is64 = size == 8;
  const Reg64& S = bpf(d.src);
  const Xbyak::Reg RS = is64 ? Xbyak::Reg(S) : Xbyak::Reg(S.cvt32());
  const MemRef m = mem_operand(d.dst, d.off, size, true, pc, true);
  const Address a = (is64 ? qword : dword)[Reg64(m.base) + m.disp];
  switch (op) {
    case Op::ATOMIC_ADD32:
    case Op::ATOMIC_ADD64: lock(); add(a, RS); return;
    case Op::ATOMIC_OR32:
    case Op::ATOMIC_OR64: lock(); or_(a, RS); return;
    case Op::ATOMIC_AND32:
    case Op::ATOMIC_AND64: lock(); and_(a, RS); return;
    case Op::ATOMIC_XOR32:
    case Op::ATOMIC_XOR64: lock(); xor_(a, RS); return;
    case Op::ATOMIC_FETCH_ADD32:
    case Op::ATOMIC_FETCH_ADD64: lock(); xadd(a, RS); return;
    case Op::ATOMIC_XCHG32:
    case Op::ATOMIC_XCHG64: xchg(a, RS); return;  // implicitly locked
    case Op::ATOMIC_CMPXCHG32:
    case Op::ATOMIC_CMPXCHG64:
      lock();
      cmpxchg(a, RS);
      if (!is64) mov(eax, eax);  // a successful 32-bit cmpxchg leaves rax's upper half alone
      return;
    default: break;
  }
  // fetch-or / fetch-and / fetch-xor
  lea(r11, a);
  const Address at = is64 ? qword[r11] : dword[r11];
  const bool src_is_r0 = S.getIdx() == Xbyak::Operand::RAX;
  mov(r9, S);
  if (!src_is_r0) push(rax);
  mov(is64 ? Xbyak::Reg(rax) : Xbyak::Reg(eax), at);
  const size_t loop = getSize();
  mov(r10, rax);
  const Xbyak::Reg nv = is64 ? Xbyak::Reg(r10) : Xbyak::Reg(r10d);
  const Xbyak::Reg v = is64 ? Xbyak::Reg(r9) : Xbyak::Reg(r9d);
  switch (op) {
    case Op::ATOMIC_FETCH_OR32:
    case Op::ATOMIC_FETCH_OR64: or_(nv, v); break;
    case Op::ATOMIC_FETCH_AND32:
    case Op::ATOMIC_FETCH_AND64: and_(nv, v); break;
    case Op::ATOMIC_FETCH_XOR32:
    case Op::ATOMIC_FETCH_XOR64: xor_(nv, v); break;
    default: codegen_error(Xbyak::ERR_BAD_COMBINATION);
  }
  lock();
  cmpxchg(at, nv);
  db(0x70 | kCondNE);
  db(static_cast<uint8_t>(static_cast<int64_t>(loop) - static_cast<int64_t>(getSize() + 1)));
  if (!src_is_r0) {
    mov(RS, is64 ? Xbyak::Reg(rax) : Xbyak::Reg(eax));
    pop(rax);
  }
}

// ld_abs / ld_ind through the C++ slow path; r1..r5 are kept (the interpreter
// keeps them too), and an out-of-bounds offset ends the program with r0 = 0.
void Compiler::emit_ld_packet(const DInsn& d, Op op) {
  const uint32_t size = spec(op).width;
  const bool ind = op == Op::LDINDB || op == Op::LDINDH || op == Op::LDINDW;
  mov(r11d, static_cast<uint32_t>(d.imm));
  if (ind) add(r11d, bpf(d.src).cvt32());
  push(rdi);
  push(rsi);
  push(rdx);
  push(rcx);
  push(r8);
  push(r9);  // six pushes keep rsp 16-byte aligned for the call
  mov(rdi, r12);
  mov(esi, r11d);
  mov(edx, size);
  mov(rax, reinterpret_cast<uint64_t>(&load_packet));
  call(rax);
  mov(r11, rdx);
  pop(r9);
  pop(r8);
  pop(rcx);
  pop(rdx);
  pop(rsi);
  pop(rdi);
  test(r11, r11);
  const size_t ok = jcc8(kCondNE);
  call_routine(rt_.packet_exit);
  bind8(ok);
}

}  // namespace userbpf::jit::detail
