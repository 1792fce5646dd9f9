// Disassembly in the syntax llvm-objdump prints for BPF, driven by the table.
#include <cstdio>

#include "userbpf/isa.h"

namespace userbpf::isa {
namespace {

std::string reg(int n, bool w) { return (w ? "w" : "r") + std::to_string(n); }

std::string signed_off(int64_t off) { return off < 0 ? " - " + std::to_string(-off) : " + " + std::to_string(off); }
std::string jump_off(int64_t off) { return off < 0 ? std::to_string(off) : "+" + std::to_string(off); }

const char* size_name(uint8_t bytes, bool is_signed) {
  switch (bytes) {
    case 1: return is_signed ? "s8" : "u8";
    case 2: return is_signed ? "s16" : "u16";
    case 4: return is_signed ? "s32" : "u32";
    default: return "u64";
  }
}

std::string mem(uint8_t bytes, bool is_signed, int base, int16_t off) {
  return std::string("*(") + size_name(bytes, is_signed) + " *)(r" + std::to_string(base) + signed_off(off) + ")";
}

const char* alu_symbol(uint8_t code, int16_t off) {
  switch (code) {
    case op::ADD: return "+=";
    case op::SUB: return "-=";
    case op::MUL: return "*=";
    case op::DIV: return off ? "s/=" : "/=";
    case op::OR: return "|=";
    case op::AND: return "&=";
    case op::LSH: return "<<=";
    case op::RSH: return ">>=";
    case op::MOD: return off ? "s%=" : "%=";
    case op::XOR: return "^=";
    case op::MOV: return "=";
    case op::ARSH: return "s>>=";
    default: return "?=";
  }
}

const char* jump_symbol(uint8_t code) {
  switch (code) {
    case op::JEQ: return "==";
    case op::JGT: return ">";
    case op::JGE: return ">=";
    case op::JSET: return "&";
    case op::JNE: return "!=";
    case op::JSGT: return "s>";
    case op::JSGE: return "s>=";
    case op::JLT: return "<";
    case op::JLE: return "<=";
    case op::JSLT: return "s<";
    case op::JSLE: return "s<=";
    default: return "?";
  }
}

std::string unknown(const Insn& insn) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "<invalid: opcode 0x%02x dst %d src %d off %d imm %d>", insn.opcode, insn.dst, insn.src,
                insn.off, insn.imm);
  return buf;
}

std::string atomic_text(const Insn& insn, const InsnSpec& s) {
  const bool w64 = s.width == 8;
  const std::string sz = w64 ? "u64" : "u32";
  const std::string addr = "r" + std::to_string(insn.dst) + signed_off(insn.off);
  const std::string src = reg(insn.src, !w64);
  const int32_t aop = insn.imm & ~op::FETCH;
  if (insn.imm == op::XCHG)
    return src + " = xchg" + (w64 ? "_64(" : "32_32(") + addr + ", " + src + ")";
  if (insn.imm == op::CMPXCHG)
    return reg(0, !w64) + " = cmpxchg" + (w64 ? "_64(" : "32_32(") + addr + ", " + reg(0, !w64) + ", " + src + ")";
  const char* name = aop == op::ADD ? "add" : aop == op::OR ? "or" : aop == op::AND ? "and" : "xor";
  if (insn.imm & op::FETCH)
    return src + " = atomic_fetch_" + name + "((" + sz + " *)(" + addr + "), " + src + ")";
  const char* sym = aop == op::ADD ? "+=" : aop == op::OR ? "|=" : aop == op::AND ? "&=" : "^=";
  return "lock *(" + sz + " *)(" + addr + ") " + sym + " " + src;
}

}  // namespace

std::string disassemble(const Insn& insn, const Insn* next) {
  const InsnSpec* s = lookup(insn);
  if (!s) return unknown(insn);
  const uint8_t code = op::alu_op(insn.opcode);
  const bool x = (insn.opcode & op::X) != 0;
  switch (s->kind) {
    case Kind::Alu: {
      const bool w = s->width == 32;
      const std::string d = reg(insn.dst, w);
      if (code == op::NEG) return d + " = -" + d;
      if (code == op::MOV && insn.off != 0)
        return d + " = (s" + std::to_string(insn.off) + ")" + reg(insn.src, w);
      return d + " " + alu_symbol(code, insn.off) + " " + (x ? reg(insn.src, w) : std::to_string(insn.imm));
    }
    case Kind::Endian: {
      const std::string d = reg(insn.dst, false);
      const char* name = s->op <= Op::LE64 ? "le" : s->op <= Op::BE64 ? "be" : "bswap";
      return d + " = " + name + std::to_string(insn.imm) + " " + d;
    }
    case Kind::Jump: {
      if (s->op == Op::JA) return "goto " + jump_off(insn.off);
      if (s->op == Op::JA32) return "gotol " + jump_off(insn.imm);
      const bool w = s->width == 32;
      return "if " + reg(insn.dst, w) + " " + jump_symbol(code) + " " + (x ? reg(insn.src, w) : std::to_string(insn.imm)) +
             " goto " + jump_off(insn.off);
    }
    case Kind::Call:
      if (s->op == Op::CALLX) return "callx r" + std::to_string(insn.dst != 0 ? insn.dst : insn.imm);
      // objdump prints all three as "call N"; spell out local and kfunc calls
      // (as the kernel's verifier log does) so the text reassembles unambiguously.
      if (s->op == Op::CALL_LOCAL) return "call pc" + jump_off(insn.imm);
      if (s->op == Op::CALL_KFUNC)
        return "call kfunc " + std::to_string(insn.imm) + (insn.off ? ", " + std::to_string(insn.off) : "");
      return "call " + std::to_string(insn.imm);
    case Kind::Exit: return "exit";
    case Kind::LoadImm64: {
      const uint64_t v = next ? lddw_imm(insn, *next) : static_cast<uint32_t>(insn.imm);
      return reg(insn.dst, false) + " = " + std::to_string(v) + " ll";
    }
    case Kind::LegacyLoad: {
      const std::string where = op::mode(insn.opcode) == op::ABS
                                    ? std::to_string(insn.imm)
                                    : "r" + std::to_string(insn.src) + (insn.imm ? signed_off(insn.imm) : "");
      return std::string("r0 = *(") + size_name(s->width, false) + " *)skb[" + where + "]";
    }
    case Kind::Load:
      return reg(insn.dst, false) + " = " + mem(s->width, op::mode(insn.opcode) == op::MEMSX, insn.src, insn.off);
    case Kind::Store: return mem(s->width, false, insn.dst, insn.off) + " = " + std::to_string(insn.imm);
    case Kind::StoreReg: return mem(s->width, false, insn.dst, insn.off) + " = " + reg(insn.src, false);
    case Kind::Atomic: return atomic_text(insn, *s);
  }
  return unknown(insn);
}

std::string disassemble_program(std::span<const Insn> prog) {
  std::string out;
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const Insn* next = pc + 1 < prog.size() ? &prog[pc + 1] : nullptr;
    out += std::to_string(pc) + ":\t" + disassemble(prog[pc], next) + "\n";
    if (is_lddw(prog[pc]) && next) ++pc;
  }
  return out;
}

}  // namespace userbpf::isa
