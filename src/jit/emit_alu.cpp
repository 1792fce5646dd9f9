// ALU and byte-order instructions.  32-bit forms use the 32-bit registers, whose
// writes zero the upper half on x86-64: the zero-extension eBPF requires comes
// free, so there is nothing for a Fits32 proof to remove here.
#include "jit/compiler.h"

#include "jit/x86_encode.h"

namespace userbpf::jit::detail {

using isa::Op;

void Compiler::emit_alu(const DInsn& d, Op op, size_t pc) {
  const bool is64 = spec(op).width == 64;
  const Reg64& D = bpf(d.dst);
  const Reg64& S = bpf(d.src);
  const uint32_t imm = static_cast<uint32_t>(d.imm);  // sign-extended by the CPU in 64-bit forms
  const int32_t simm = static_cast<int32_t>(imm);
  const bool nonzero = proof(pc) & vm::proof::kDivisorNonZero;
  const int xd = D.getIdx(), xs = S.getIdx();
  switch (op) {
#define USERBPF_BIN(NAME, OPC, EXT)                             \
  case Op::NAME##64_IMM:                                        \
  case Op::NAME##32_IMM:                                        \
    put(x86::op_ri(out(), x86::EXT, xd, simm, is64));           \
    break;                                                      \
  case Op::NAME##64_REG:                                        \
  case Op::NAME##32_REG:                                        \
    put(x86::op_rr(out(), x86::OPC, xd, xs, is64));             \
    break;
    USERBPF_BIN(ADD, kAdd, kExtAdd)
    USERBPF_BIN(SUB, kSub, kExtSub)
    USERBPF_BIN(OR, kOr, kExtOr)
    USERBPF_BIN(AND, kAnd, kExtAnd)
    USERBPF_BIN(XOR, kXor, kExtXor)
#undef USERBPF_BIN
    case Op::MUL64_IMM:
    case Op::MUL32_IMM: put(x86::imul_rri(out(), xd, xd, simm, is64)); break;
    case Op::MUL64_REG:
    case Op::MUL32_REG: put(x86::imul_rr(out(), xd, xs, is64)); break;
    case Op::DIV64_IMM: emit_divmod(d, true, false, false, false, true); break;
    case Op::DIV64_REG: emit_divmod(d, true, false, false, true, nonzero); break;
    case Op::DIV32_IMM: emit_divmod(d, false, false, false, false, true); break;
    case Op::DIV32_REG: emit_divmod(d, false, false, false, true, nonzero); break;
    case Op::MOD64_IMM: emit_divmod(d, true, false, true, false, true); break;
    case Op::MOD64_REG: emit_divmod(d, true, false, true, true, nonzero); break;
    case Op::MOD32_IMM: emit_divmod(d, false, false, true, false, true); break;
    case Op::MOD32_REG: emit_divmod(d, false, false, true, true, nonzero); break;
    case Op::SDIV64_IMM: emit_divmod(d, true, true, false, false, true); break;
    case Op::SDIV64_REG: emit_divmod(d, true, true, false, true, nonzero); break;
    case Op::SDIV32_IMM: emit_divmod(d, false, true, false, false, true); break;
    case Op::SDIV32_REG: emit_divmod(d, false, true, false, true, nonzero); break;
    case Op::SMOD64_IMM: emit_divmod(d, true, true, true, false, true); break;
    case Op::SMOD64_REG: emit_divmod(d, true, true, true, true, nonzero); break;
    case Op::SMOD32_IMM: emit_divmod(d, false, true, true, false, true); break;
    case Op::SMOD32_REG: emit_divmod(d, false, true, true, true, nonzero); break;
    case Op::LSH64_IMM: emit_shift(d, true, 0, false); break;
    case Op::LSH64_REG: emit_shift(d, true, 0, true); break;
    case Op::LSH32_IMM: emit_shift(d, false, 0, false); break;
    case Op::LSH32_REG: emit_shift(d, false, 0, true); break;
    case Op::RSH64_IMM: emit_shift(d, true, 1, false); break;
    case Op::RSH64_REG: emit_shift(d, true, 1, true); break;
    case Op::RSH32_IMM: emit_shift(d, false, 1, false); break;
    case Op::RSH32_REG: emit_shift(d, false, 1, true); break;
    case Op::ARSH64_IMM: emit_shift(d, true, 2, false); break;
    case Op::ARSH64_REG: emit_shift(d, true, 2, true); break;
    case Op::ARSH32_IMM: emit_shift(d, false, 2, false); break;
    case Op::ARSH32_REG: emit_shift(d, false, 2, true); break;
    case Op::NEG64: neg(D); break;
    case Op::NEG32: neg(D.cvt32()); break;
    case Op::MOV64_IMM: put(x86::mov_ri(out(), xd, d.imm)); break;
    case Op::MOV32_IMM: put(x86::mov_ri(out(), xd, imm)); break;
    case Op::MOV64_REG:
      if (d.dst != d.src) put(x86::op_rr(out(), x86::kMov, xd, xs, true));
      break;
    case Op::MOV32_REG:  // also when dst == src: that is the zero-extension
      put(x86::op_rr(out(), x86::kMov, xd, xs, false));
      break;
    case Op::MOVSX8_64: movsx(D, S.cvt8()); break;
    case Op::MOVSX16_64: movsx(D, S.cvt16()); break;
    case Op::MOVSX32_64: movsxd(D, S.cvt32()); break;
    case Op::MOVSX8_32: movsx(D.cvt32(), S.cvt8()); break;
    case Op::MOVSX16_32: movsx(D.cvt32(), S.cvt16()); break;
    default: codegen_error(Xbyak::ERR_BAD_COMBINATION);
  }
}

// Division by zero gives 0, modulo by zero leaves dst (zero-extended for the
// 32-bit forms); a signed division by -1 negates (x86 idiv would trap on
// INT_MIN / -1) and the signed modulo by -1 is 0.  rax and rdx (r0, r3) are
// borrowed around div/idiv and restored unless they are dst.
void Compiler::emit_divmod(const DInsn& d, bool is64, bool is_signed, bool is_mod, bool reg_src, bool nonzero) {
  const Reg64& D = bpf(d.dst);
  const Xbyak::Reg R = is64 ? Xbyak::Reg(D) : Xbyak::Reg(D.cvt32());
  const Xbyak::Reg T = is64 ? Xbyak::Reg(r11) : Xbyak::Reg(r11d);
  auto zero_case = [&] {
    if (!is_mod) xor_(D.cvt32(), D.cvt32());
    else if (!is64) mov(D.cvt32(), D.cvt32());
  };
  auto minus_one_case = [&] {
    if (is_mod) xor_(D.cvt32(), D.cvt32());
    else neg(R);
  };
  size_t to_zero = 0, to_minus_one = 0;
  if (!reg_src) {
    const uint64_t v = is64 ? d.imm : static_cast<uint32_t>(d.imm);
    if (v == 0) return zero_case();
    if (is_signed && (is64 ? v == UINT64_MAX : v == UINT32_MAX)) return minus_one_case();
    if (is64) mov(r11, d.imm);
    else mov(r11d, static_cast<uint32_t>(d.imm));
  } else {
    const Reg64& S = bpf(d.src);
    if (is64) mov(r11, S);
    else mov(r11d, S.cvt32());
    if (!nonzero) {
      test(T, T);
      to_zero = jcc8(kCondE);
    }
    if (is_signed) {
      cmp(T, -1);
      to_minus_one = jcc8(kCondE);
    }
  }
  const bool keep_rax = D.getIdx() != Xbyak::Operand::RAX;
  const bool keep_rdx = D.getIdx() != Xbyak::Operand::RDX;
  if (keep_rax) mov(r9, rax);
  if (keep_rdx) mov(r10, rdx);
  if (keep_rax) mov(is64 ? Xbyak::Reg(rax) : Xbyak::Reg(eax), R);
  if (is_signed) {
    if (is64) cqo();
    else cdq();
  } else {
    xor_(edx, edx);
  }
  if (is_signed) idiv(T);
  else div(T);
  const Reg64 result = is_mod ? rdx : rax;
  if (D.getIdx() != result.getIdx()) mov(D, result);  // div/idiv already zero-extended a 32-bit result
  if (keep_rax) mov(rax, r9);
  if (keep_rdx) mov(rdx, r10);
  if (!to_zero && !to_minus_one) return;
  const size_t done = jmp8();
  size_t done2 = 0;
  if (to_zero) {
    bind8(to_zero);
    zero_case();
    if (to_minus_one) done2 = jmp8();
  }
  if (to_minus_one) {
    bind8(to_minus_one);
    minus_one_case();
  }
  bind8(done);
  if (done2) bind8(done2);
}

// Shift counts are masked to the operand width, as x86 does by itself.  A
// 32-bit shift by 0 is spelled out as a zero-extension.
void Compiler::emit_shift(const DInsn& d, bool is64, int kind, bool reg_src) {
  const Reg64& D = bpf(d.dst);
  const Xbyak::Reg R = is64 ? Xbyak::Reg(D) : Xbyak::Reg(D.cvt32());
  auto shift = [&](const Xbyak::Operand& o, const Xbyak::Reg8& count) {
    if (kind == 0) shl(o, count);
    else if (kind == 1) shr(o, count);
    else sar(o, count);
  };
  if (!reg_src) {
    const int n = static_cast<int>(d.imm & (is64 ? 63 : 31));
    if (n == 0) {
      if (!is64) mov(D.cvt32(), D.cvt32());
      return;
    }
    put(x86::shift_ri(out(), kind == 0 ? 4 : kind == 1 ? 5 : 7, D.getIdx(), static_cast<uint8_t>(n), is64));
    return;
  }
  const Reg64& S = bpf(d.src);
  if (bmi2_) {
    if (is64) {
      if (kind == 0) shlx(D, D, S);
      else if (kind == 1) shrx(D, D, S);
      else sarx(D, D, S);
    } else {
      if (kind == 0) shlx(D.cvt32(), D.cvt32(), S.cvt32());
      else if (kind == 1) shrx(D.cvt32(), D.cvt32(), S.cvt32());
      else sarx(D.cvt32(), D.cvt32(), S.cvt32());
    }
    return;
  }
  // The count must be in cl, and rcx is r4.
  if (S.getIdx() == Xbyak::Operand::RCX) {
    shift(R, cl);
  } else if (D.getIdx() == Xbyak::Operand::RCX) {
    mov(r11, rcx);
    mov(rcx, S);
    shift(is64 ? Xbyak::Reg(r11) : Xbyak::Reg(r11d), cl);
    mov(is64 ? Xbyak::Reg(rcx) : Xbyak::Reg(ecx), is64 ? Xbyak::Reg(r11) : Xbyak::Reg(r11d));
    return;
  } else {
    mov(r11, rcx);
    mov(rcx, S);
    shift(R, cl);
    mov(rcx, r11);
  }
  if (!is64) mov(D.cvt32(), D.cvt32());
}

// The idioms fuse.h finds, as one or two x86 instructions.
void Compiler::emit_fused(const Fusion& f) {
  const int d = xreg(f.dst);
  if (f.kind == Fusion::kRotl32) {
    if (f.src != f.dst) put(x86::op_rr(out(), x86::kMov, d, xreg(f.src), false));
    put(x86::shift_ri(out(), 0, d, f.count, false));  // rol r32, count
    return;
  }
  uint8_t* p = x86::load(out(), d, xreg(f.src), f.off, f.size, false);
  if (f.kind == Fusion::kLoadBE) {
    if (f.size == 4) {  // bswap r32
      if (d >= 8) *p++ = 0x41;
      *p++ = 0x0F;
      *p++ = static_cast<uint8_t>(0xC8 | (d & 7));
    } else {  // rol r16, 8 (the upper half is already zero)
      *p++ = 0x66;
      p = x86::shift_ri(p, 0, d, 8, false);
    }
  }
  put(p);
}

void Compiler::emit_endian(const DInsn& d, Op op) {
  const Reg64& D = bpf(d.dst);
  switch (op) {
    case Op::LE16: movzx(D.cvt32(), D.cvt16()); break;
    case Op::LE32: mov(D.cvt32(), D.cvt32()); break;
    case Op::LE64: break;
    case Op::BE16:
    case Op::BSWAP16:
      ror(D.cvt16(), 8);
      movzx(D.cvt32(), D.cvt16());
      break;
    case Op::BE32:
    case Op::BSWAP32: bswap(D.cvt32()); break;
    case Op::BE64:
    case Op::BSWAP64: bswap(D); break;
    default: codegen_error(Xbyak::ERR_BAD_COMBINATION);
  }
}

}  // namespace userbpf::jit::detail
