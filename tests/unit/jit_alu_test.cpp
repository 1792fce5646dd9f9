// JIT against the interpreter: every ALU and byte-order operation, with every
// dst/src register pair (the JIT borrows rax, rdx and rcx for div and shifts),
// edge values, and division / modulo by zero and INT_MIN / -1.
#include <array>

#include "jit/jit_internal.h"
#include "support/random_prog.h"
#include "unit/jit_test_util.h"

namespace userbpf::jit_test {
namespace {

using isa::Op;

isa::Insn from_spec(const isa::InsnSpec& s, uint8_t dst, uint8_t src, int32_t imm) {
  if (s.zero & isa::kZeroImm) imm = 0;  // neg
  isa::Insn i = ins(s.opcode, dst, s.uses_src_reg ? src : 0, 0, s.uses_src_reg ? 0 : imm);
  if (s.match == isa::Match::Off) i.off = static_cast<int16_t>(s.match_value);
  if (s.match == isa::Match::Imm) i.imm = s.match_value;
  return i;
}

// Loads r0..r9 with `v`, runs `insn`, and writes r0..r9 to the input buffer
// (through the stack, so every register's final value is compared).
Prog around(isa::Insn insn, const uint64_t (&v)[10], uint8_t* buf) {
  Prog p;
  for (uint8_t r = 0; r < 10; ++r) {
    auto l = lddw(r, v[r]);
    p.insert(p.end(), l.begin(), l.end());
  }
  p.push_back(insn);
  for (uint8_t r = 0; r < 10; ++r) p.push_back(stx(op::DW, 10, r, static_cast<int16_t>(-8 * (r + 1))));
  auto base = lddw(1, reinterpret_cast<uintptr_t>(buf));
  p.insert(p.end(), base.begin(), base.end());
  for (int16_t r = 0; r < 10; ++r) {
    p.push_back(ldx(op::DW, 2, 10, static_cast<int16_t>(-8 * (r + 1))));
    p.push_back(stx(op::DW, 1, 2, static_cast<int16_t>(8 * r)));
  }
  p.push_back(mov64(0, 0));
  p.push_back(exit_insn());
  return p;
}

bool is_alu(const isa::InsnSpec& s) { return s.kind == isa::Kind::Alu || s.kind == isa::Kind::Endian; }

// One program per (op, dst, src, value set); the buffer is fixed so that the
// programs' lddw of its address stays valid in both runs.
class JitAlu : public ::testing::Test {
 protected:
  void check(const isa::InsnSpec& s, uint8_t dst, uint8_t src, int32_t imm, const uint64_t (&v)[10]) {
    const Prog p = around(from_spec(s, dst, src, imm), v, scratch_.data());
    const Outcome in = run_on("interp", p);
    const Outcome jit = run_on("jit", p);
    ASSERT_TRUE(in.built && jit.built) << in.build_error << jit.build_error;
    ASSERT_TRUE(in.ok && jit.ok) << s.asm_name << " " << (in.ok ? "" : in.error.str()) << (jit.ok ? "" : jit.error.str());
    EXPECT_EQ(in.memory, jit.memory) << s.asm_name << " dst r" << int(dst) << " src r" << int(src) << " imm " << imm
                                     << "\n" << isa::disassemble_program(p);
    ++programs_;
  }
  Outcome run_on(const std::string& engine, const Prog& p) {
    Outcome o;
    auto e = vm::make_engine(engine, p, {});
    if (!e) {
      o.build_error = e.error().str();
      return o;
    }
    o.built = true;
    std::fill(scratch_.begin(), scratch_.end(), 0);
    vm::ExecContext ctx;
    ctx.regions.push_back(region_of(scratch_.data(), scratch_.size(), true));
    auto r = (*e)->run(ctx);
    o.ok = r.ok();
    if (!r.ok()) o.error = r.error();
    o.memory.assign(scratch_.begin(), scratch_.end());
    return o;
  }
  std::array<uint8_t, 80> scratch_{};
  int programs_ = 0;
};

TEST_F(JitAlu, EveryOpEveryRegisterPair) {
  uint64_t seed = 1;
  for (const isa::InsnSpec& s : isa::all_specs()) {
    if (!is_alu(s) || !s.uses_src_reg) continue;
    for (uint8_t dst = 0; dst < 10; ++dst)
      for (uint8_t src = 0; src < 10; ++src)
        for (int round = 0; round < 2; ++round) {
          uint64_t v[10];
          for (auto& x : v) x = testing::interesting_u64(seed);
          if (round == 1) v[src] = (seed & 1) ? 0 : UINT64_MAX;  // division by 0 and by -1
          check(s, dst, src, 0, v);
        }
  }
  EXPECT_GT(programs_, 5000);
}

// Shifts by a register without BMI2 go through cl, and rcx is r4.
TEST_F(JitAlu, ShiftsThroughClWithoutBmi2) {
  jit::detail::allow_bmi2_for_testing(false);
  uint64_t seed = 3;
  for (Op o : {Op::LSH64_REG, Op::RSH64_REG, Op::ARSH64_REG, Op::LSH32_REG, Op::RSH32_REG, Op::ARSH32_REG})
    for (uint8_t dst = 0; dst < 10; ++dst)
      for (uint8_t src = 0; src < 10; ++src) {
        uint64_t v[10];
        for (auto& x : v) x = testing::interesting_u64(seed);
        check(isa::spec(o), dst, src, 0, v);
        v[src] = 32;  // a 32-bit shift by 0 after masking
        check(isa::spec(o), dst, src, 0, v);
      }
  jit::detail::allow_bmi2_for_testing(true);
}

TEST_F(JitAlu, EveryImmediateForm) {
  static const int32_t kImms[] = {0,  1,  -1, 2,  7,  8,  31, 32, 33, 63, 64, 65, 0x7f, 0x80, -0x80, 0xff, 0x7fff,
                                  -0x8000, 0x7fffffff, INT32_MIN, -2, 3, 100, 0x12345678};
  uint64_t seed = 7;
  for (const isa::InsnSpec& s : isa::all_specs()) {
    if (!is_alu(s) || s.uses_src_reg) continue;
    for (uint8_t dst = 0; dst < 10; ++dst)
      for (int32_t imm : kImms) {
        uint64_t v[10];
        for (auto& x : v) x = testing::interesting_u64(seed);
        check(s, dst, 0, imm, v);
      }
  }
  EXPECT_GT(programs_, 5000);
}

TEST_F(JitAlu, DivisionEdgeCases) {
  struct Case {
    uint64_t a, b;
  };
  static const Case kCases[] = {
      {5, 0}, {0xffffffffffffffff, 0}, {0x8000000000000000, UINT64_MAX}, {0x80000000, 0xffffffff},
      {0xdead00000000beef, 0x100000000}, {0xdead00000000beef, 0xffffffff00000000}, {7, UINT64_MAX},
      {UINT64_MAX, 2}, {0x80000000, UINT64_MAX}, {0xffffffff80000000, 0xffffffff}, {13, 5}, {static_cast<uint64_t>(-13), 5},
  };
  static const Op kOps[] = {Op::DIV64_REG, Op::MOD64_REG, Op::SDIV64_REG, Op::SMOD64_REG,
                            Op::DIV32_REG, Op::MOD32_REG, Op::SDIV32_REG, Op::SMOD32_REG};
  for (Op o : kOps)
    for (const Case& c : kCases)
      for (uint8_t dst : {0, 3, 4, 1})
        for (uint8_t src : {0, 3, 4, 2}) {
          uint64_t v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
          v[dst] = c.a;
          if (src != dst) v[src] = c.b;
          check(isa::spec(o), dst, src, 0, v);
        }
}

// With the divisor proven non-zero, the zero test goes but the results stay.
TEST(JitAluProofs, ProvenDivisorAndVerifiedProgram) {
  for (Op o : {Op::DIV64_REG, Op::MOD32_REG, Op::SDIV64_REG, Op::SMOD32_REG}) {
    const Prog p = P({lddw(0, 0x8000000000000000ull), lddw(3, UINT64_MAX), from_spec(isa::spec(o), 0, 3, 0), exit_insn()});
    RunSetup s;
    s.proofs = all_proven(p);
    s.proofs[4] |= vm::proof::kDivisorNonZero;
    expect_same(p, s, isa::op_name(o));
  }
  // The guard really is gone: shorter code.
  const Prog p = P({mov64(0, 10), mov64(1, 3), alu64r(op::DIV, 0, 1), exit_insn()});
  auto plain = jit::make_jit(p, {});
  vm::EngineOptions proven;
  std::vector<uint32_t> pr(p.size(), vm::proof::kVerified);
  pr[2] |= vm::proof::kDivisorNonZero;
  proven.proofs = pr;
  auto fast = jit::make_jit(p, proven);
  ASSERT_TRUE(plain.ok() && fast.ok());
  const auto& a = dynamic_cast<const jit::JitEngine&>(**plain);
  const auto& b = dynamic_cast<const jit::JitEngine&>(**fast);
  EXPECT_LT(b.insn_offsets()[3] - b.insn_offsets()[2], a.insn_offsets()[3] - a.insn_offsets()[2]);
  EXPECT_TRUE(b.verified());
  EXPECT_FALSE(a.verified());
}

TEST(JitAluMisc, LddwMovAndShiftsByZero) {
  expect_same(P({lddw(0, 0x123456789abcdef0ull), lddw(5, 0xffffffffffffffffull), alu64r(op::ADD, 0, 5), exit_insn()}));
  // 32-bit shifts by 0 (imm and register) still zero-extend.
  expect_same(P({lddw(0, 0xffffffff12345678ull), alu32(op::LSH, 0, 0), exit_insn()}));
  expect_same(P({lddw(0, 0xffffffff12345678ull), mov64(4, 32), alu32r(op::RSH, 0, 4), exit_insn()}));
  expect_same(P({lddw(4, 0xffffffff12345678ull), mov64(2, 64), alu32r(op::ARSH, 4, 2), mov64r(0, 4), exit_insn()}));
  expect_same(P({lddw(0, 0xffffffff12345678ull), alu64(op::LSH, 0, 64), exit_insn()}));
  expect_same(P({lddw(0, 0xffffffff12345678ull), alu32r(op::MOV, 0, 0), exit_insn()}));
}

}  // namespace
}  // namespace userbpf::jit_test
