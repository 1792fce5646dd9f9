// Instruction builders and run helpers for the interpreter unit tests.  Programs
// are built from isa::Insn literals (not the assembler) so these tests depend only
// on the ISA table and the interpreter.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace userbpf::interp_test {

using isa::Insn;
namespace op = isa::op;
using Prog = std::vector<Insn>;

inline Insn ins(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  return userbpf::isa::make_insn(opcode, dst, src, off, imm);
}

// ALU: `o` is an op::ADD-style code; *_r forms take a register, off selects sdiv/smod/movsx.
inline Insn alu64(uint8_t o, uint8_t dst, int32_t imm, int16_t off = 0) { return ins(op::ALU64 | o | op::K, dst, 0, off, imm); }
inline Insn alu64r(uint8_t o, uint8_t dst, uint8_t src, int16_t off = 0) { return ins(op::ALU64 | o | op::X, dst, src, off); }
inline Insn alu32(uint8_t o, uint8_t dst, int32_t imm, int16_t off = 0) { return ins(op::ALU | o | op::K, dst, 0, off, imm); }
inline Insn alu32r(uint8_t o, uint8_t dst, uint8_t src, int16_t off = 0) { return ins(op::ALU | o | op::X, dst, src, off); }
inline Insn mov64(uint8_t dst, int32_t imm) { return alu64(op::MOV, dst, imm); }
inline Insn mov64r(uint8_t dst, uint8_t src) { return alu64r(op::MOV, dst, src); }
inline Insn exit_insn() { return ins(op::JMP | op::EXIT); }
inline Insn ja(int16_t off) { return ins(op::JMP | op::JA, 0, 0, off); }
inline Insn ja32(int32_t imm) { return ins(op::JMP32 | op::JA, 0, 0, 0, imm); }
inline Insn jmp(uint8_t o, uint8_t dst, int32_t imm, int16_t off) { return ins(op::JMP | o | op::K, dst, 0, off, imm); }
inline Insn jmpr(uint8_t o, uint8_t dst, uint8_t src, int16_t off) { return ins(op::JMP | o | op::X, dst, src, off); }
inline Insn jmp32(uint8_t o, uint8_t dst, int32_t imm, int16_t off) { return ins(op::JMP32 | o | op::K, dst, 0, off, imm); }
inline Insn jmp32r(uint8_t o, uint8_t dst, uint8_t src, int16_t off) { return ins(op::JMP32 | o | op::X, dst, src, off); }
// Memory: `size` is op::B/H/W/DW.
inline Insn ldx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) { return ins(op::LDX | op::MEM | size, dst, src, off); }
inline Insn ldxs(uint8_t size, uint8_t dst, uint8_t src, int16_t off) { return ins(op::LDX | op::MEMSX | size, dst, src, off); }
inline Insn st(uint8_t size, uint8_t dst, int16_t off, int32_t imm) { return ins(op::ST | op::MEM | size, dst, 0, off, imm); }
inline Insn stx(uint8_t size, uint8_t dst, uint8_t src, int16_t off) { return ins(op::STX | op::MEM | size, dst, src, off); }
inline Insn atomic(uint8_t size, uint8_t dst, uint8_t src, int16_t off, int32_t aop) {
  return ins(op::STX | op::ATOMIC | size, dst, src, off, aop);
}
inline Insn call(int32_t helper) { return ins(op::JMP | op::CALL, 0, isa::pseudo::CALL_HELPER, 0, helper); }
inline Insn call_local(int32_t rel) { return ins(op::JMP | op::CALL, 0, isa::pseudo::CALL_LOCAL, 0, rel); }
inline Insn ldabs(uint8_t size, int32_t imm) { return ins(op::LD | op::ABS | size, 0, 0, 0, imm); }
inline Insn ldind(uint8_t size, uint8_t src, int32_t imm) { return ins(op::LD | op::IND | size, 0, src, 0, imm); }
inline std::vector<Insn> lddw(uint8_t dst, uint64_t v, uint8_t pseudo_src = 0) {
  return {ins(op::LD | op::IMM | op::DW, dst, pseudo_src, 0, static_cast<int32_t>(static_cast<uint32_t>(v))),
          ins(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v >> 32)))};
}

// A program written as a list of single instructions and lddw pairs.
struct Piece {
  std::vector<Insn> v;
  Piece(Insn i) : v{i} {}                          // NOLINT: implicit on purpose
  Piece(std::vector<Insn> x) : v(std::move(x)) {}  // NOLINT
};
inline Prog P(std::initializer_list<Piece> pieces) {
  Prog out;
  for (const Piece& p : pieces) out.insert(out.end(), p.v.begin(), p.v.end());
  return out;
}

inline Result<std::unique_ptr<vm::Engine>> build(const Prog& p, const vm::HelperRegistry* helpers = nullptr) {
  vm::EngineOptions opts;
  opts.helpers = helpers;
  return vm::make_interpreter(p, opts);
}

inline Result<uint64_t> run(const Prog& p, vm::ExecContext& ctx, const vm::HelperRegistry* helpers = nullptr) {
  auto e = build(p, helpers);
  if (!e) return e.error();
  return (*e)->run(ctx);
}

inline Result<uint64_t> run(const Prog& p, const vm::HelperRegistry* helpers = nullptr) {
  vm::ExecContext ctx;
  ctx.helpers = helpers;
  return run(p, ctx, helpers);
}

// Runs and expects success; the sentinel makes a failed run also fail the value check.
inline uint64_t run_ok(const Prog& p, vm::ExecContext& ctx, const vm::HelperRegistry* helpers = nullptr) {
  auto r = run(p, ctx, helpers);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return r.ok() ? *r : 0xdead'beef'dead'beefull;
}
inline uint64_t run_ok(const Prog& p, const vm::HelperRegistry* helpers = nullptr) {
  vm::ExecContext ctx;
  return run_ok(p, ctx, helpers);
}

// r0 = a, r1 = b, then `insn`, then exit: the result of one ALU operation.
inline uint64_t alu(Insn insn, uint64_t a, uint64_t b = 0) {
  return run_ok(P({lddw(0, a), lddw(1, b), insn, exit_insn()}));
}

inline vm::Region region_of(void* p, size_t n, bool writable, const char* name = "input") {
  vm::Region r;
  r.start = reinterpret_cast<uintptr_t>(p);
  r.size = n;
  r.writable = writable;
  r.name = name;
  return r;
}

}  // namespace userbpf::interp_test
