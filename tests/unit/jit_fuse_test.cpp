// Fusion of byte-assembled words and 32-bit rotates (src/jit/fuse.h): which
// idioms are fused, which are not because the rewrite would be observable,
// and that the fused code computes what the interpreter computes.
#include <gtest/gtest.h>

#include "jit/fuse.h"
#include "jit/jit_internal.h"
#include "unit/jit_test_util.h"
#include "vm/interpreter_internal.h"

namespace userbpf::jit_test {
namespace {

using jit::detail::Fusion;
using jit::detail::FusionPlan;

Insn mov32r(uint8_t dst, uint8_t src) { return alu32r(op::MOV, dst, src); }

RunSetup input_setup(const Prog& p) {
  RunSetup s;
  for (int i = 0; i < 16; ++i) s.input.push_back(static_cast<uint8_t>(0x11 * (i + 1) ^ (i << 5)));
  s.proofs = all_proven(p, vm::proof::kMemSafe);
  return s;
}

FusionPlan plan(const Prog& p, const std::vector<uint32_t>& proofs) {
  auto prog = vm::interp::build_program(p, {});
  EXPECT_TRUE(prog.ok()) << prog.error().str();
  return jit::detail::plan_fusions(*prog, proofs, jit::detail::spec_table());
}

// Runs p on both engines and returns what was fused.
std::vector<Fusion> fused_and_same(const Prog& p, const std::string& what) {
  const RunSetup s = input_setup(p);
  const Outcome o = expect_same(p, s, what);
  EXPECT_TRUE(o.ok) << what << ": " << o.error.str();
  return plan(p, s.proofs).fused;
}

// r0 = p[o] | p[o+1] << 8 | ... (n bytes from r1, 32-bit ors for n <= 4),
// built in a temporary (r3) the way clang does; little- or big-endian.
Prog word(int n, bool big, uint8_t dst = 0) {
  Prog p;
  const bool w64 = n == 8;
  auto shl = [&](uint8_t r, int k) { p.push_back(w64 ? alu64(op::LSH, r, k) : alu32(op::LSH, r, k)); };
  auto orr = [&](uint8_t d, uint8_t s) { p.push_back(w64 ? alu64r(op::OR, d, s) : alu32r(op::OR, d, s)); };
  auto pos = [&](int i) { return 8 * (big ? n - 1 - i : i); };
  p.push_back(ldx(op::B, dst, 1, 1));
  shl(dst, pos(1));
  p.push_back(ldx(op::B, 3, 1, 0));
  if (pos(0)) shl(3, pos(0));
  orr(dst, 3);
  for (int i = 2; i < n; ++i) {
    p.push_back(ldx(op::B, 3, 1, static_cast<int16_t>(i)));
    shl(3, pos(i));
    orr(dst, 3);
  }
  return p;
}

Prog with_exit(Prog p, std::initializer_list<Insn> tail = {}) {
  for (const Insn& i : tail) p.push_back(i);
  p.push_back(exit_insn());
  return p;
}

TEST(JitFuse, WordsFromBytes) {
  for (int n : {2, 4, 8})
    for (bool big : {false, true}) {
      if (n == 8 && big) continue;
      const std::string what = std::to_string(n) + (big ? " big" : " little") + "-endian";
      const auto f = fused_and_same(with_exit(word(n, big)), what);
      ASSERT_EQ(f.size(), 1u) << what;
      EXPECT_EQ(f[0].kind, big ? Fusion::kLoadBE : Fusion::kLoadLE) << what;
      EXPECT_EQ(f[0].size, n) << what;
      EXPECT_EQ(f[0].off, 0);
    }
  // Into another register, then used: r6 = le32, r0 = r6 + 1.
  Prog p = word(4, false, 6);
  const auto f = fused_and_same(with_exit(p, {mov64r(0, 6), alu64r(op::ADD, 0, 6)}), "into r6");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].dst, 6);
}

TEST(JitFuse, RotatesBothWays) {
  // w0 = rol(w2, 13) with the result in w2 (clang's usual form) and in the copy.
  const Prog base = {ldx(op::W, 2, 1, 4), alu64(op::MUL, 2, 0x3779b1)};
  Prog a = base;
  for (const Insn& i : {mov32r(5, 2), alu32(op::RSH, 5, 19), alu32(op::LSH, 2, 13), alu32r(op::OR, 2, 5), mov64r(0, 2)})
    a.push_back(i);
  auto f = fused_and_same(with_exit(a), "result in the shifted register");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, Fusion::kRotl32);
  EXPECT_EQ(f[0].count, 13);
  Prog c = base;
  for (const Insn& i : {mov32r(5, 2), alu32(op::LSH, 5, 7), alu32(op::RSH, 2, 25), alu32r(op::OR, 5, 2), mov64r(0, 5)})
    c.push_back(i);
  f = fused_and_same(with_exit(c), "result in the copy");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].dst, 5);
  EXPECT_EQ(f[0].count, 7);
  // Not a rotate: the counts do not add up to 32.
  Prog bad = base;
  for (const Insn& i : {mov32r(5, 2), alu32(op::RSH, 5, 18), alu32(op::LSH, 2, 13), alu32r(op::OR, 2, 5), mov64r(0, 2)})
    bad.push_back(i);
  EXPECT_TRUE(fused_and_same(with_exit(bad), "18 + 13").empty());
}

// Each of these would change what the program observes: nothing is fused,
// and both engines still agree.
TEST(JitFuse, NotWhenTheRewriteWouldShow) {
  // The last temporary is read afterwards: the word is not fused (its first
  // half still is: that temporary is overwritten before anything reads it).
  for (const Fusion& f : fused_and_same(with_exit(word(4, false), {alu64r(op::ADD, 0, 3)}), "temp live"))
    EXPECT_EQ(f.size, 2);
  // The bytes are overwritten between the loads.
  Prog store = word(2, false);
  store.insert(store.begin() + 2, st(op::B, 1, 0, 0x7f));
  EXPECT_TRUE(fused_and_same(with_exit(store), "store between").empty());
  // The base moves between the loads (a later load then reads other bytes).
  Prog moved = word(4, false);
  moved.insert(moved.begin() + 1, alu64(op::ADD, 1, 0));
  EXPECT_TRUE(fused_and_same(with_exit(moved), "base rewritten").empty());
  // A jump lands inside the idiom.
  Prog target = {mov64(3, 0), jmp(op::JEQ, 2, 0, 2)};
  for (const Insn& i : word(4, false)) target.push_back(i);
  EXPECT_TRUE(fused_and_same(with_exit(target), "jump target inside").empty());
  // Something else reads the temporary while the idiom is being built.
  Prog peek = word(4, false);
  peek.insert(peek.begin() + 4, mov64r(6, 3));
  EXPECT_TRUE(fused_and_same(with_exit(peek, {alu64r(op::ADD, 0, 6)}), "temp read between").empty());
  // Without the proof that the bytes are in bounds.
  const Prog p = with_exit(word(4, false));
  std::vector<uint32_t> unproven = all_proven(p);
  EXPECT_TRUE(plan(p, unproven).fused.empty());
}

TEST(JitFuse, UnrelatedInstructionsInBetween) {
  // An lddw (two slots) and an ALU op on other registers inside the idiom.
  Prog p = word(4, false);
  const auto wide = lddw(6, 0x1122334455667788ull);
  p.insert(p.begin() + 3, wide.begin(), wide.end());
  p.insert(p.begin() + 6, alu64(op::ADD, 7, 3));
  const auto f = fused_and_same(with_exit(p, {alu64r(op::XOR, 0, 6)}), "lddw between");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].size, 4);
}

TEST(JitFuse, TwoIdiomsSideBySide) {
  // le16 at 0 into r0, then rol of a loaded word into r2, both used.
  Prog p = word(2, false);
  for (const Insn& i : {ldx(op::W, 2, 1, 8), mov32r(4, 2), alu32(op::RSH, 4, 8), alu32(op::LSH, 2, 24),
                        alu32r(op::OR, 2, 4), alu64r(op::XOR, 0, 2)})
    p.push_back(i);
  const auto f = fused_and_same(with_exit(p), "two");
  EXPECT_EQ(f.size(), 2u);
}

}  // namespace
}  // namespace userbpf::jit_test
