// Interpreter semantics, corner by corner (RFC 9669 / Linux kernel): ALU widths,
// shifts, division, sign extension, byte order, jumps, loads/stores, atomics and
// legacy packet loads.  Calls, errors and threads are in interpreter_calls_test.cpp.
#include <cstring>
#include <limits>

#include "unit/interp_test_util.h"

namespace userbpf::interp_test {
namespace {

constexpr uint64_t kAll = ~0ull;
constexpr uint64_t kI64Min = 0x8000'0000'0000'0000ull;

// ---- ALU ------------------------------------------------------------------------------

TEST(InterpAlu, Alu32ResultsAreZeroExtended) {
  EXPECT_EQ(alu(alu32(op::ADD, 0, 1), kAll), 0u);
  EXPECT_EQ(alu(alu32r(op::ADD, 0, 1), 0x1'0000'0005ull, 3), 8u);
  EXPECT_EQ(alu(alu32r(op::SUB, 0, 1), 0, 1), 0xffff'ffffu);
  EXPECT_EQ(alu(alu32r(op::MUL, 0, 1), 0x1'0000'0002ull, 0x5'0000'0003ull), 6u);
  EXPECT_EQ(alu(alu32(op::OR, 0, 0), 0xabcd'0000'1234ull), 0x1234u);
  EXPECT_EQ(alu(alu32(op::AND, 0, 0xff), kAll), 0xffu);
  EXPECT_EQ(alu(alu32(op::XOR, 0, -1), 0xffff'ffff'0000'0000ull), 0xffff'ffffu);
  EXPECT_EQ(alu(alu32(op::MOV, 0, -1), 0), 0xffff'ffffu);
  EXPECT_EQ(alu(alu32r(op::MOV, 0, 1), 0, 0x1234'5678'9abc'def0ull), 0x9abc'def0u);
}

TEST(InterpAlu, Alu64ImmediatesAreSignExtended) {
  EXPECT_EQ(alu(alu64(op::ADD, 0, -1), 0), kAll);
  EXPECT_EQ(alu(alu64(op::SUB, 0, 1), 0), kAll);
  EXPECT_EQ(alu(alu64(op::MUL, 0, -1), 5), static_cast<uint64_t>(-5ll));
  EXPECT_EQ(alu(alu64(op::OR, 0, -1), 0), kAll);
  EXPECT_EQ(alu(alu64(op::AND, 0, -256), kAll), 0xffff'ffff'ffff'ff00ull);
  EXPECT_EQ(alu(alu64(op::XOR, 0, 0x0f), 0xff), 0xf0u);
  EXPECT_EQ(alu(alu64(op::MOV, 0, -2), 0), static_cast<uint64_t>(-2ll));
  EXPECT_EQ(alu(alu64r(op::MUL, 0, 1), 0x1'0000'0001ull, 0x1'0000'0001ull), 0x2'0000'0001ull);
}

TEST(InterpAlu, ShiftAmountsAreMasked) {
  EXPECT_EQ(alu(alu64r(op::LSH, 0, 1), 3, 65), 6u);
  EXPECT_EQ(alu(alu64(op::LSH, 0, 63), 1), kI64Min);
  EXPECT_EQ(alu(alu32r(op::LSH, 0, 1), 0x8000'0001u, 33), 2u);
  EXPECT_EQ(alu(alu32(op::LSH, 0, 4), 0xf000'0001u), 0x10u);
  EXPECT_EQ(alu(alu64r(op::RSH, 0, 1), kAll, 127), 1u);
  EXPECT_EQ(alu(alu32(op::RSH, 0, 4), 0xffff'ffff'8000'0000ull), 0x0800'0000u);
  EXPECT_EQ(alu(alu32r(op::RSH, 0, 1), 0x8000'0000u, 35), 0x1000'0000u);
  // Immediates past the width are masked too (the kernel verifier would refuse them).
  EXPECT_EQ(alu(alu64(op::LSH, 0, 65), 3), 6u);
  EXPECT_EQ(alu(alu64(op::RSH, 0, 68), 0x100), 0x10u);
  EXPECT_EQ(alu(alu64(op::ARSH, 0, 66), kI64Min), 0xe000'0000'0000'0000ull);
  EXPECT_EQ(alu(alu32(op::LSH, 0, 33), 0x8000'0003u), 6u);
  EXPECT_EQ(alu(alu32(op::RSH, 0, 36), 0x100), 0x10u);
  EXPECT_EQ(alu(alu32(op::ARSH, 0, 33), 0x8000'0000u), 0xc000'0000u);
  EXPECT_EQ(alu(alu32(op::LSH, 0, -1), 1), 0x8000'0000u);  // -1 & 31 = 31
}

TEST(InterpAlu, ArithmeticShiftsKeepTheSign) {
  EXPECT_EQ(alu(alu64(op::ARSH, 0, 2), static_cast<uint64_t>(-16ll)), static_cast<uint64_t>(-4ll));
  EXPECT_EQ(alu(alu64r(op::ARSH, 0, 1), kI64Min, 64 + 63), kAll);
  EXPECT_EQ(alu(alu32(op::ARSH, 0, 4), 0x8000'0000u), 0xf800'0000u);  // zero-extended
  EXPECT_EQ(alu(alu32r(op::ARSH, 0, 1), 0xffff'ffff'4000'0000ull, 32 + 2), 0x1000'0000u);
  EXPECT_EQ(alu(alu32r(op::ARSH, 0, 1), 0x8000'0000u, 31), 0xffff'ffffu);
}

TEST(InterpAlu, UnsignedDivisionAndModulo) {
  EXPECT_EQ(alu(alu64r(op::DIV, 0, 1), 100, 7), 14u);
  EXPECT_EQ(alu(alu64r(op::MOD, 0, 1), 100, 7), 2u);
  EXPECT_EQ(alu(alu64(op::DIV, 0, -1), kAll), 1u);  // imm sign-extended then unsigned
  EXPECT_EQ(alu(alu64(op::DIV, 0, -1), 100), 0u);
  EXPECT_EQ(alu(alu32r(op::DIV, 0, 1), 0x1'0000'0010ull, 0x1'0000'0004ull), 4u);  // low 32 bits only
  EXPECT_EQ(alu(alu32(op::DIV, 0, -1), 0xffff'fffeu), 0u);
  EXPECT_EQ(alu(alu32r(op::MOD, 0, 1), 0x1'0000'0011ull, 0x10), 1u);
}

TEST(InterpAlu, DivisionByZero) {
  EXPECT_EQ(alu(alu64r(op::DIV, 0, 1), 1234, 0), 0u);
  EXPECT_EQ(alu(alu64(op::DIV, 0, 0), 1234), 0u);
  EXPECT_EQ(alu(alu64r(op::MOD, 0, 1), 0xaaaa'bbbb'cccc'ddddull, 0), 0xaaaa'bbbb'cccc'ddddull);
  EXPECT_EQ(alu(alu32r(op::DIV, 0, 1), 1234, 0x1'0000'0000ull), 0u);  // low 32 bits are zero
  EXPECT_EQ(alu(alu32r(op::MOD, 0, 1), 0xaaaa'bbbb'cccc'ddddull, 0), 0xcccc'ddddull);
  EXPECT_EQ(alu(alu32(op::MOD, 0, 0), 0xaaaa'bbbb'cccc'ddddull), 0xcccc'ddddull);
}

TEST(InterpAlu, SignedDivision) {
  auto sdiv64 = [](int64_t a, int64_t b) { return static_cast<int64_t>(alu(alu64r(op::DIV, 0, 1, 1), a, b)); };
  auto smod64 = [](int64_t a, int64_t b) { return static_cast<int64_t>(alu(alu64r(op::MOD, 0, 1, 1), a, b)); };
  EXPECT_EQ(sdiv64(-7, 2), -3);
  EXPECT_EQ(sdiv64(7, -2), -3);
  EXPECT_EQ(sdiv64(std::numeric_limits<int64_t>::min(), -1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(sdiv64(-5, 0), 0);
  EXPECT_EQ(smod64(-7, 2), -1);  // sign follows the dividend
  EXPECT_EQ(smod64(7, -2), 1);
  EXPECT_EQ(smod64(-7, -2), -1);
  EXPECT_EQ(smod64(std::numeric_limits<int64_t>::min(), -1), 0);
  EXPECT_EQ(smod64(-5, 0), -5);
  EXPECT_EQ(alu(alu64(op::DIV, 0, -3, 1), 9), static_cast<uint64_t>(-3ll));
  EXPECT_EQ(alu(alu64(op::MOD, 0, -3, 1), 10), 1u);
}

TEST(InterpAlu, SignedDivision32) {
  EXPECT_EQ(alu(alu32r(op::DIV, 0, 1, 1), 0x8000'0000u, kAll), 0x8000'0000u);  // INT_MIN / -1
  EXPECT_EQ(alu(alu32(op::DIV, 0, -1, 1), 0x8000'0000u), 0x8000'0000u);
  EXPECT_EQ(alu(alu32r(op::MOD, 0, 1, 1), 0x8000'0000u, 0xffff'ffffu), 0u);
  EXPECT_EQ(alu(alu32r(op::DIV, 0, 1, 1), 0xffff'fff9u, 2), 0xffff'fffdu);  // -7 / 2 = -3
  EXPECT_EQ(alu(alu32r(op::MOD, 0, 1, 1), 0xffff'fff9u, 2), 0xffff'ffffu);  // -7 % 2 = -1
  EXPECT_EQ(alu(alu32(op::MOD, 0, -2, 1), 7), 1u);
  EXPECT_EQ(alu(alu32r(op::DIV, 0, 1, 1), 0xffff'fff9u, 0), 0u);
  EXPECT_EQ(alu(alu32r(op::MOD, 0, 1, 1), 0xffff'ffff'8000'0001ull, 0), 0x8000'0001u);
  // Only the low 32 bits of the dividend count: 0x1_00000006 is 6.
  EXPECT_EQ(alu(alu32(op::DIV, 0, -2, 1), 0x1'0000'0006ull), 0xffff'fffdu);
}

TEST(InterpAlu, Negation) {
  EXPECT_EQ(alu(alu64(op::NEG, 0, 0), 5), static_cast<uint64_t>(-5ll));
  EXPECT_EQ(alu(alu64(op::NEG, 0, 0), kI64Min), kI64Min);
  EXPECT_EQ(alu(alu32(op::NEG, 0, 0), 5), 0xffff'fffbu);
  EXPECT_EQ(alu(alu32(op::NEG, 0, 0), 0x1'0000'0000ull), 0u);
  EXPECT_EQ(alu(alu32(op::NEG, 0, 0), 0x8000'0000u), 0x8000'0000u);
}

TEST(InterpAlu, SignExtendingMoves) {
  EXPECT_EQ(alu(alu64r(op::MOV, 0, 1, 8), 0, 0x1280), 0xffff'ffff'ffff'ff80ull);
  EXPECT_EQ(alu(alu64r(op::MOV, 0, 1, 8), 0, 0x7f), 0x7fu);
  EXPECT_EQ(alu(alu64r(op::MOV, 0, 1, 16), 0, 0x1'8000), 0xffff'ffff'ffff'8000ull);
  EXPECT_EQ(alu(alu64r(op::MOV, 0, 1, 32), 0, 0x5'8000'0000ull), 0xffff'ffff'8000'0000ull);
  EXPECT_EQ(alu(alu64r(op::MOV, 0, 1, 32), 0, 0x5'7000'0000ull), 0x7000'0000u);
  EXPECT_EQ(alu(alu32r(op::MOV, 0, 1, 8), 0, 0x180), 0xffff'ff80u);
  EXPECT_EQ(alu(alu32r(op::MOV, 0, 1, 16), 0, 0xffff'8000ull), 0xffff'8000u);
  EXPECT_EQ(alu(alu32r(op::MOV, 0, 1, 16), 0, 0x7fff), 0x7fffu);
}

// ---- byte order -------------------------------------------------------------------------

Insn endian(uint8_t cls, uint8_t src_bit, int32_t bits) { return ins(cls | op::END | src_bit, 0, 0, 0, bits); }

TEST(InterpEndian, LittleEndianTruncates) {
  const uint64_t v = 0x1122'3344'5566'7788ull;
  EXPECT_EQ(alu(endian(op::ALU, op::K, 16), v), 0x7788u);
  EXPECT_EQ(alu(endian(op::ALU, op::K, 32), v), 0x5566'7788u);
  EXPECT_EQ(alu(endian(op::ALU, op::K, 64), v), v);
}

TEST(InterpEndian, BigEndianAndBswapSwap) {
  const uint64_t v = 0x1122'3344'5566'7788ull;
  for (uint8_t variant = 0; variant < 2; ++variant) {
    const uint8_t cls = variant ? op::ALU64 : op::ALU;
    const uint8_t bit = variant ? op::K : op::X;  // be = ALU|END|X, bswap = ALU64|END|K
    EXPECT_EQ(alu(endian(cls, bit, 16), v), 0x8877u) << int(variant);
    EXPECT_EQ(alu(endian(cls, bit, 32), v), 0x8877'6655u) << int(variant);
    EXPECT_EQ(alu(endian(cls, bit, 64), v), 0x8877'6655'4433'2211ull) << int(variant);
  }
}

// ---- jumps ----------------------------------------------------------------------------------

// 1 when `j` (with r1 = a, r2 = b, offset +1) is taken, else 0.
uint64_t taken(Insn j, uint64_t a, uint64_t b = 0) {
  j.off = 1;
  return run_ok(P({lddw(1, a), lddw(2, b), mov64(0, 1), j, mov64(0, 0), exit_insn()}));
}

TEST(InterpJump, Jmp32ComparesLow32Bits) {
  EXPECT_EQ(taken(jmp32(op::JEQ, 1, 0, 0), 0x1'0000'0000ull), 1u);
  EXPECT_EQ(taken(jmp(op::JEQ, 1, 0, 0), 0x1'0000'0000ull), 0u);
  EXPECT_EQ(taken(jmp32r(op::JGT, 1, 2, 0), 0x1'0000'0001ull, 2), 0u);
  EXPECT_EQ(taken(jmpr(op::JGT, 1, 2, 0), 0x1'0000'0001ull, 2), 1u);
  EXPECT_EQ(taken(jmp32r(op::JNE, 1, 2, 0), 0x7'0000'0009ull, 0x3'0000'0009ull), 0u);
  EXPECT_EQ(taken(jmp32(op::JSET, 1, 1, 0), 0x1'0000'0000ull), 0u);
  EXPECT_EQ(taken(jmp(op::JSET, 1, -1, 0), 0x1'0000'0000ull), 1u);
}

TEST(InterpJump, SignedComparesUseTheOperandWidth) {
  EXPECT_EQ(taken(jmp32(op::JSLT, 1, 0, 0), 0xffff'ffffu), 1u);  // int32 -1 < 0
  EXPECT_EQ(taken(jmp(op::JSLT, 1, 0, 0), 0xffff'ffffu), 0u);    // int64 4294967295 > 0
  EXPECT_EQ(taken(jmp(op::JSGT, 1, -1, 0), 0), 1u);
  EXPECT_EQ(taken(jmp(op::JGT, 1, -1, 0), 0), 0u);  // imm -1 is 2^64-1 unsigned
  EXPECT_EQ(taken(jmp32(op::JGT, 1, -1, 0), 0xffff'fffeu), 0u);
  EXPECT_EQ(taken(jmp32(op::JGE, 1, -1, 0), 0xffff'ffffu), 1u);
  EXPECT_EQ(taken(jmp32r(op::JSGE, 1, 2, 0), 0x8000'0000u, 0x7fff'ffffu), 0u);
  EXPECT_EQ(taken(jmpr(op::JSGE, 1, 2, 0), 0x8000'0000u, 0x7fff'ffffu), 1u);
  EXPECT_EQ(taken(jmp32r(op::JSLE, 1, 2, 0), 0x1'ffff'fff0ull, 3), 1u);
  EXPECT_EQ(taken(jmpr(op::JSLE, 1, 2, 0), 0x1'ffff'fff0ull, 3), 0u);
  EXPECT_EQ(taken(jmpr(op::JLT, 1, 2, 0), 3, kAll), 1u);
  EXPECT_EQ(taken(jmpr(op::JSLT, 1, 2, 0), 3, kAll), 0u);
  EXPECT_EQ(taken(jmp(op::JLE, 1, 5, 0), 5), 1u);
  EXPECT_EQ(taken(jmp32(op::JSGT, 1, -2, 0), 0xffff'ffffu), 1u);
}

TEST(InterpJump, GotolUsesImmediate) {
  // gotol +2 skips two instructions; its off field is ignored (must be 0 anyway).
  const Prog p = P({mov64(0, 1), ja32(2), mov64(0, 2), exit_insn(), alu64(op::ADD, 0, 10), exit_insn()});
  EXPECT_EQ(run_ok(p), 11u);
  EXPECT_EQ(run_ok(P({mov64(0, 1), ja(1), mov64(0, 2), exit_insn()})), 1u);
}

TEST(InterpJump, LoopCountsInstructions) {
  // r0 = sum 1..10 with a backward jump; 2 + 10 * 3 + 1 instructions.
  const Prog p = P({mov64(0, 0), mov64(1, 10), alu64r(op::ADD, 0, 1), alu64(op::SUB, 1, 1),
                    jmp(op::JNE, 1, 0, -3), exit_insn()});
  vm::ExecContext ctx;
  EXPECT_EQ(run_ok(p, ctx), 55u);
  EXPECT_EQ(ctx.insns_executed, 33u);
}

// ---- loads and stores -------------------------------------------------------------------------

TEST(InterpMemory, LoadsFromARegion) {
  alignas(8) uint8_t buf[16] = {0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 1, 2, 3, 4, 0x7f, 0xff, 0xff, 0x7f};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, false));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  EXPECT_EQ(run_ok(P({ldx(op::B, 0, 1, 0), exit_insn()}), ctx), 0x81u);
  EXPECT_EQ(run_ok(P({ldx(op::H, 0, 1, 1), exit_insn()}), ctx), 0x8382u);
  EXPECT_EQ(run_ok(P({ldx(op::W, 0, 1, 8), exit_insn()}), ctx), 0x0403'0201u);
  EXPECT_EQ(run_ok(P({ldx(op::DW, 0, 1, 0), exit_insn()}), ctx), 0x8887'8685'8483'8281ull);
  EXPECT_EQ(run_ok(P({ldx(op::DW, 0, 1, 8), exit_insn()}), ctx), 0x7fff'ff7f'0403'0201ull);
}

TEST(InterpMemory, SignExtendingLoads) {
  alignas(8) uint8_t buf[8] = {0x80, 0x00, 0x80, 0x7f, 0x00, 0x00, 0x00, 0x80};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, false));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  EXPECT_EQ(run_ok(P({ldxs(op::B, 0, 1, 0), exit_insn()}), ctx), 0xffff'ffff'ffff'ff80ull);
  EXPECT_EQ(run_ok(P({ldxs(op::B, 0, 1, 3), exit_insn()}), ctx), 0x7fu);
  EXPECT_EQ(run_ok(P({ldxs(op::H, 0, 1, 2), exit_insn()}), ctx), 0x7f80u);
  EXPECT_EQ(run_ok(P({ldxs(op::H, 0, 1, 0), exit_insn()}), ctx), 0x80u);
  EXPECT_EQ(run_ok(P({ldxs(op::H, 0, 1, 6), exit_insn()}), ctx), 0xffff'ffff'ffff'8000ull);
  EXPECT_EQ(run_ok(P({ldxs(op::W, 0, 1, 4), exit_insn()}), ctx), 0xffff'ffff'8000'0000ull);
  EXPECT_EQ(run_ok(P({ldxs(op::W, 0, 1, 0), exit_insn()}), ctx), 0x7f80'0080u);
}

TEST(InterpMemory, StoresIntoAWritableRegion) {
  alignas(8) uint8_t buf[16] = {};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, true));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  const Prog p = P({st(op::B, 1, 0, 0x1ab), st(op::H, 1, 2, -2), st(op::W, 1, 4, 0x11223344), st(op::DW, 1, 8, -1),
                    lddw(2, 0x0102'0304'0506'0708ull), stx(op::W, 1, 2, 12), stx(op::B, 1, 2, 1),
                    ldx(op::DW, 0, 1, 0), exit_insn()});
  EXPECT_EQ(run_ok(p, ctx), 0x1122'3344'fffe'08abull);
  uint64_t hi;
  std::memcpy(&hi, buf + 8, 8);
  EXPECT_EQ(hi, 0x0506'0708'ffff'ffffull);
}

TEST(InterpMemory, StackIsUsableAndZeroed) {
  // Frame pointer is the top of an initially zeroed 512-byte frame.
  EXPECT_EQ(run_ok(P({ldx(op::DW, 0, 10, -512), exit_insn()})), 0u);
  EXPECT_EQ(run_ok(P({st(op::DW, 10, -8, 77), stx(op::DW, 10, 10, -16), ldx(op::DW, 0, 10, -16),
                      alu64r(op::SUB, 0, 10), ldx(op::DW, 1, 10, -8), alu64r(op::ADD, 0, 1), exit_insn()})),
            77u);
  EXPECT_EQ(run_ok(P({st(op::B, 10, -1, 0x5a), ldx(op::B, 0, 10, -1), exit_insn()})), 0x5au);
}

TEST(InterpMemory, UnalignedAccessesWork) {
  alignas(8) uint8_t buf[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, false));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  EXPECT_EQ(run_ok(P({ldx(op::DW, 0, 1, 3), exit_insn()}), ctx), 0x0a09'0807'0605'0403ull);
  EXPECT_EQ(run_ok(P({ldx(op::DW, 1, 1, 7), stx(op::DW, 10, 1, -13), ldx(op::W, 0, 10, -11), exit_insn()}), ctx),
            0x0c0b'0a09u);
}

// ---- atomics ---------------------------------------------------------------------------------

struct AtomicCase {
  int32_t aop;
  uint8_t size;
  uint64_t mem, src, r0;
  uint64_t want_mem, want_src, want_r0;
};

void check_atomic(const AtomicCase& c) {
  alignas(8) uint64_t mem[2] = {c.mem, 0x5555'5555'5555'5555ull};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(mem, sizeof mem, true, "map value"));
  ctx.args[0] = reinterpret_cast<uintptr_t>(mem);
  // r6 = src register, r0 = comparand.  First run returns r0, the second returns r6.
  const Prog p = P({lddw(6, c.src), lddw(0, c.r0), atomic(c.size, 1, 6, 0, c.aop), exit_insn()});
  auto e = build(p);
  ASSERT_TRUE(e.ok()) << e.error().str();
  auto r = (*e)->run(ctx);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, c.want_r0) << "aop " << c.aop;
  EXPECT_EQ(mem[0], c.want_mem) << "aop " << c.aop;
  EXPECT_EQ(mem[1], 0x5555'5555'5555'5555ull) << "neighbour clobbered, aop " << c.aop;
  mem[0] = c.mem;
  const Prog q = P({lddw(6, c.src), lddw(0, c.r0), atomic(c.size, 1, 6, 0, c.aop), mov64r(0, 6), exit_insn()});
  EXPECT_EQ(run_ok(q, ctx), c.want_src) << "aop " << c.aop;
}

TEST(InterpAtomic, Atomics64) {
  const uint64_t m = 0xf0f0'0000'0000'000full, s = 0x0ff0'0000'0000'0101ull;
  const AtomicCase cases[] = {
      {op::ADD, op::DW, m, s, 7, m + s, s, 7},
      {op::OR, op::DW, m, s, 7, m | s, s, 7},
      {op::AND, op::DW, m, s, 7, m & s, s, 7},
      {op::XOR, op::DW, m, s, 7, m ^ s, s, 7},
      {op::ADD | op::FETCH, op::DW, m, s, 7, m + s, m, 7},
      {op::OR | op::FETCH, op::DW, m, s, 7, m | s, m, 7},
      {op::AND | op::FETCH, op::DW, m, s, 7, m & s, m, 7},
      {op::XOR | op::FETCH, op::DW, m, s, 7, m ^ s, m, 7},
      {op::XCHG, op::DW, m, s, 7, s, m, 7},
      {op::CMPXCHG, op::DW, m, s, m, s, s, m},  // match: memory takes src, r0 = old
      {op::CMPXCHG, op::DW, m, s, 7, m, s, m},  // mismatch: memory kept, r0 = old
  };
  for (const AtomicCase& c : cases) check_atomic(c);
}

TEST(InterpAtomic, Atomics32ZeroExtendAndKeepHighBits) {
  // A 32-bit atomic on the low half of a 64-bit word must leave the high half alone.
  const uint64_t m = 0xaaaa'aaaa'8000'0001ull, s = 0xffff'ffff'8000'0003ull;
  const uint64_t hi = 0xaaaa'aaaa'0000'0000ull;
  const uint32_t ml = 0x8000'0001u, sl = 0x8000'0003u;
  const AtomicCase cases[] = {
      {op::ADD, op::W, m, s, 7, hi | static_cast<uint32_t>(ml + sl), s, 7},
      {op::OR, op::W, m, s, 7, hi | (ml | sl), s, 7},
      {op::AND, op::W, m, s, 7, hi | (ml & sl), s, 7},
      {op::XOR, op::W, m, s, 7, hi | (ml ^ sl), s, 7},
      {op::ADD | op::FETCH, op::W, m, s, 7, hi | static_cast<uint32_t>(ml + sl), ml, 7},
      {op::OR | op::FETCH, op::W, m, s, 7, hi | (ml | sl), ml, 7},
      {op::AND | op::FETCH, op::W, m, s, 7, hi | (ml & sl), ml, 7},
      {op::XOR | op::FETCH, op::W, m, s, 7, hi | (ml ^ sl), ml, 7},
      {op::XCHG, op::W, m, s, 7, hi | sl, ml, 7},
      // cmpxchg compares only the low 32 bits of r0; r0 gets the zero-extended old value.
      {op::CMPXCHG, op::W, m, s, 0xffff'0000'8000'0001ull, hi | sl, s, ml},
      {op::CMPXCHG, op::W, m, s, 0xffff'0000'0000'0001ull, m, s, ml},
  };
  for (const AtomicCase& c : cases) check_atomic(c);
}

TEST(InterpAtomic, WorksOnTheStack) {
  EXPECT_EQ(run_ok(P({st(op::DW, 10, -8, 40), mov64(1, 2), atomic(op::DW, 10, 1, -8, op::ADD),
                      ldx(op::DW, 0, 10, -8), exit_insn()})),
            42u);
}

TEST(InterpAtomic, MisalignedAtomicIsAnError) {
  auto r = run(P({mov64(1, 2), atomic(op::DW, 10, 1, -12, op::ADD), mov64(0, 0), exit_insn()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 1);
  EXPECT_NE(r.error().message.find("misaligned"), std::string::npos) << r.error().message;
}

// ---- legacy packet loads --------------------------------------------------------------------

TEST(InterpLegacy, AbsAndIndReadBigEndian) {
  const uint8_t pkt[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  vm::ExecContext ctx;
  ctx.legacy_packet = pkt;
  EXPECT_EQ(run_ok(P({ldabs(op::B, 0), exit_insn()}), ctx), 0x12u);
  EXPECT_EQ(run_ok(P({ldabs(op::H, 1), exit_insn()}), ctx), 0x3456u);
  EXPECT_EQ(run_ok(P({ldabs(op::W, 2), exit_insn()}), ctx), 0x5678'9abcu);
  EXPECT_EQ(run_ok(P({mov64(6, 1), ldind(op::W, 6, 1), exit_insn()}), ctx), 0x5678'9abcu);
  EXPECT_EQ(run_ok(P({mov64(6, 7), ldind(op::B, 6, -2), exit_insn()}), ctx), 0xbcu);
  // The value is zero-extended into all of r0.
  EXPECT_EQ(run_ok(P({mov64(0, -1), ldabs(op::B, 4), exit_insn()}), ctx), 0x9au);
}

TEST(InterpLegacy, OutOfBoundsEndsTheProgramWithZero) {
  const uint8_t pkt[] = {1, 2, 3, 4};
  vm::ExecContext ctx;
  ctx.legacy_packet = pkt;
  EXPECT_EQ(run_ok(P({mov64(0, 9), ldabs(op::W, 1), mov64(0, 7), exit_insn()}), ctx), 0u);
  EXPECT_EQ(ctx.insns_executed, 2u);
  EXPECT_EQ(run_ok(P({mov64(0, 9), ldabs(op::W, 0), mov64(0, 7), exit_insn()}), ctx), 7u);
  EXPECT_EQ(run_ok(P({mov64(6, -1), ldind(op::B, 6, 0), mov64(0, 7), exit_insn()}), ctx), 0u);
  EXPECT_EQ(run_ok(P({mov64(6, 1), ldind(op::H, 6, 2), mov64(0, 7), exit_insn()}), ctx), 0u);
  ctx.legacy_packet = {};
  EXPECT_EQ(run_ok(P({ldabs(op::B, 0), mov64(0, 7), exit_insn()}), ctx), 0u);
}

}  // namespace
}  // namespace userbpf::interp_test
