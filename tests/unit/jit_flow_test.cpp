// JIT against the interpreter: jumps (every condition, 32 and 64 bits),
// helpers, callx, bpf-to-bpf calls, callbacks, the instruction budget and
// every run-time fault; random programs (many threads: interpreter_calls_test).

#include "support/random_prog.h"
#include "unit/jit_test_util.h"

namespace userbpf::jit_test {
namespace {

using isa::Op;

uint64_t sum_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, vm::ExecContext*) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e;
}
uint64_t stop_helper(uint64_t code, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  ctx->stop = true;
  ctx->stop_value = code;
  return 0;
}
uint64_t probe_helper(uint64_t p, uint64_t len, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return ctx->accessible(p, len, true) ? 1 : 0;
}
uint64_t count_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return ctx->insns_executed;
}
// bpf_loop-like: calls the function at r1 r2 times with (i, r3); a fault ends the run.
uint64_t loop_helper(uint64_t fn, uint64_t n, uint64_t arg, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const auto* engine = static_cast<const vm::Engine*>(ctx->user);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t args[5] = {i, arg, 0, 0, 0};
    auto r = engine->call_function(*ctx, fn, args);
    if (!r) {
      ctx->stop = true;
      ctx->stop_value = 0;
      ctx->stop_error = r.error();
      return 0;
    }
    if (*r) return i + 1;
  }
  return n;
}

const vm::HelperRegistry& registry() {
  static const vm::HelperRegistry reg = [] {
    vm::HelperRegistry r;
    r.add(1, "sum", sum_helper);
    r.add(2, "stop", stop_helper);
    r.add(3, "probe", probe_helper);
    r.add(4, "count", count_helper);
    r.add(5, "loop", loop_helper);
    return r;
  }();
  return reg;
}

RunSetup with_helpers() {
  RunSetup s;
  s.helpers = &registry();
  s.before = [](const vm::Engine& e, vm::ExecContext& ctx) { ctx.user = const_cast<vm::Engine*>(&e); };
  return s;
}

// lddw rN = address of the function at absolute slot `target`, written at slot `pc`.
std::vector<isa::Insn> func(uint8_t dst, size_t pc, size_t target) {
  return lddw(dst, static_cast<uint64_t>(static_cast<int64_t>(target) - static_cast<int64_t>(pc) - 1), isa::pseudo::FUNC);
}

TEST(JitFlow, EveryConditionalJump) {
  static const uint64_t kValues[] = {0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff,
                                     0x8000000000000000, UINT64_MAX, UINT64_MAX - 1, 0xffffffff80000000};
  int programs = 0;
  for (const isa::InsnSpec& s : isa::all_specs()) {
    if (s.kind != isa::Kind::Jump || s.op == Op::JA || s.op == Op::JA32) continue;
    for (uint64_t a : kValues)
      for (uint64_t b : kValues) {
        isa::Insn j = ins(s.opcode, 1, s.uses_src_reg ? 2 : 0, 1, s.uses_src_reg ? 0 : static_cast<int32_t>(b));
        expect_same(P({mov64(0, 0), lddw(1, a), lddw(2, b), j, exit_insn(), mov64(0, 1), exit_insn()}), {},
                    s.asm_name);
        ++programs;
      }
  }
  // Register pairs, and dst == src.
  for (uint8_t d = 0; d < 10; ++d)
    for (uint8_t r = 0; r < 10; ++r)
      expect_same(P({mov64(0, 0), mov64(d, -5), mov64(r, 3), jmpr(op::JSGT, r, d, 1), exit_insn(), mov64(0, 1), exit_insn()}));
  EXPECT_GT(programs, 3000);
}

TEST(JitFlow, LoopsAndLongJumps) {
  // A loop summing 0..999 (backward short jump), and jumps over more than 127 bytes.
  expect_same(P({mov64(0, 0), mov64(1, 0), alu64r(op::ADD, 0, 1), alu64(op::ADD, 1, 1), jmp(op::JLT, 1, 1000, -3),
                 exit_insn()}));
  Prog far = P({mov64(0, 1), mov64(2, 0), jmp(op::JEQ, 2, 0, 60)});
  for (int i = 0; i < 60; ++i) far.push_back(alu64(op::MUL, 0, 3));
  far.push_back(alu64(op::ADD, 2, 1));
  far.push_back(jmp(op::JLT, 2, 3, -63));
  far.push_back(ja32(1));
  far.push_back(mov64(0, 77));
  far.push_back(exit_insn());
  expect_same(far);
}

TEST(JitFlow, HelpersKeepArgumentsWhenUnverified) {
  const RunSetup s = with_helpers();
  expect_same(P({mov64(1, 1), mov64(2, 10), mov64(3, 100), mov64(4, 1000), mov64(5, 10000), call(1),
                 alu64r(op::ADD, 0, 1), alu64r(op::ADD, 0, 5), exit_insn()}),
              s);
  expect_same(P({mov64(1, 42), call(2), mov64(0, 1), exit_insn()}), s);  // stop
  expect_same(P({mov64r(1, 10), alu64(op::ADD, 1, -16), mov64(2, 16), call(3), exit_insn()}), s);
  expect_same(P({mov64r(1, 10), alu64(op::ADD, 1, -8), mov64(2, 16), call(3), exit_insn()}), s);
  // The count helpers see is the interpreter's.
  expect_same(P({mov64(0, 0), mov64(6, 0), alu64(op::ADD, 6, 1), jmp(op::JLT, 6, 10, -2), call(4), exit_insn()}), s);
  // callx: both encodings, and an unknown id.
  expect_same(P({mov64(2, 1), mov64(1, 4), ins(op::JMP | op::CALL | op::X, 2), exit_insn()}), s);
  expect_same(P({mov64(3, 2), mov64(1, 9), ins(op::JMP | op::CALL | op::X, 0, 0, 0, 3), mov64(0, 3), exit_insn()}), s);
  expect_same(P({mov64(2, 77), ins(op::JMP | op::CALL | op::X, 2), exit_insn()}), s);
  expect_same(P({lddw(2, 1ull << 40), ins(op::JMP | op::CALL | op::X, 2), exit_insn()}), s);
  // Unknown helper at build time: the same refusal.
  expect_same(P({call(99), exit_insn()}), s);
}

TEST(JitFlow, VerifiedHelperCallsWithProofs) {
  RunSetup s = with_helpers();
  const Prog p = P({mov64(1, 1), mov64(2, 10), mov64(3, 100), mov64(4, 1000), mov64(5, 10000), call(1), mov64(6, 3),
                    alu64r(op::ADD, 0, 6), exit_insn()});
  s.proofs = all_proven(p);
  expect_same(p, s);
}

TEST(JitFlow, LocalCalls) {
  expect_same(P({mov64(6, 7), mov64(1, 5), call_local(2), alu64r(op::ADD, 0, 6), exit_insn(), mov64(6, 100),
                 mov64r(0, 1), alu64(op::MUL, 0, 2), exit_insn()}));
  expect_same(P({st(op::DW, 10, -8, 0x55), mov64r(1, 10), alu64(op::ADD, 1, -8), mov64r(6, 10), call_local(3),
                 alu64r(op::SUB, 6, 10), alu64r(op::ADD, 0, 6), exit_insn(), st(op::DW, 10, -8, 1), ldx(op::DW, 0, 1, 0),
                 ldx(op::DW, 2, 10, -8), alu64r(op::ADD, 0, 2), exit_insn()}));
  // Frames are zeroed on entry and below-frame access faults.
  expect_same(P({st(op::DW, 10, -520, 1), call_local(1), exit_insn(), ldx(op::DW, 0, 10, -8), exit_insn()}));
  expect_same(P({call_local(1), exit_insn(), ldx(op::DW, 0, 10, -520), exit_insn()}));
  // Recursion: 8 frames are fine, 9 fault.
  for (int32_t depth : {6, 7, 8, 20}) {
    expect_same(P({mov64(1, depth), call_local(2), mov64(0, 1), exit_insn(), alu64(op::SUB, 1, 1), jmp(op::JEQ, 1, 0, 1),
                   call_local(-3), exit_insn()}));
  }
  // Helpers see the whole live stack from a callee.
  const RunSetup s = with_helpers();
  expect_same(P({call_local(1), exit_insn(), mov64r(1, 10), alu64(op::ADD, 1, -8), mov64(2, 520), call(3), exit_insn()}), s);
  expect_same(P({call_local(1), exit_insn(), mov64r(1, 10), alu64(op::ADD, 1, -8), mov64(2, 1032), call(3), exit_insn()}),
              s);
}

TEST(JitFlow, BudgetAndFallOff) {
  for (uint64_t budget : {0, 1, 2, 3, 4, 5, 10, 999, 1000, 1001}) {
    RunSetup s;
    s.budget = budget;
    expect_same(P({mov64(0, 0), ja(-1), exit_insn()}), s);                    // infinite loop
    expect_same(P({mov64(0, 1), mov64(0, 2), mov64(0, 3), exit_insn()}), s);  // straight line
    expect_same(P({mov64(0, 0), alu64(op::ADD, 0, 1), jmp(op::JLT, 0, 100, -2), exit_insn()}), s);
    expect_same(P({mov64(0, 0), jmp(op::JEQ, 0, 0, 0), mov64(0, 2), jmp(op::JNE, 0, 0, 0), exit_insn()}), s);
    expect_same(P({mov64(1, 3), call_local(2), mov64(0, 1), exit_insn(), alu64(op::SUB, 1, 1), jmp(op::JEQ, 1, 0, 1),
                   call_local(-3), exit_insn()}),
                s);
    RunSetup h = with_helpers();
    h.budget = budget;
    expect_same(P({mov64(1, 42), mov64(2, 1), mov64(3, 1), call(2), exit_insn()}), h);
    RunSetup pk;
    pk.budget = budget;
    pk.legacy_packet = true;
    expect_same(P({mov64(0, 1), mov64(0, 1), ldabs(op::B, 100), exit_insn()}), pk);
  }
  expect_same(P({mov64(0, 1)}));
  expect_same(P({mov64(0, 1), jmp(op::JEQ, 0, 0, -1)}));
  expect_same(P({lddw(0, 1)}));
}

TEST(JitFlow, Callbacks) {
  // main: *(fp-8) = 5; loop(fn, 4, fp-8); return r0 + *(fp-8); fn(i, p): *p += i, calls a subprogram.
  Prog p = P({st(op::DW, 10, -8, 5)});
  auto f = func(1, 1, 10);
  p.insert(p.end(), f.begin(), f.end());
  const Prog rest = P({mov64(2, 4), mov64r(3, 10), alu64(op::ADD, 3, -8), call(5), ldx(op::DW, 1, 10, -8),
                       alu64r(op::ADD, 0, 1), exit_insn(),
                       /* 10: */ ldx(op::DW, 3, 2, 0), alu64r(op::ADD, 3, 1), stx(op::DW, 2, 3, 0), call_local(2),
                       mov64(0, 0), exit_insn(), /* 16: */ mov64(0, 9), exit_insn()});
  p.insert(p.end(), rest.begin(), rest.end());
  expect_same(p, with_helpers());
  // A callback that faults ends the whole run with its error.
  Prog bad = p;
  bad[10] = ldx(op::DW, 3, 2, 4096);
  expect_same(bad, with_helpers());
  // Recursive callbacks hit the call depth limit.
  const Prog rec = P({func(1, 0, 0), mov64(2, 1), call(5), exit_insn()});
  expect_same(rec, with_helpers());
}

TEST(JitFlow, CallFunctionDirectly) {
  const Prog p = P({mov64(0, 1), exit_insn(), ldx(op::DW, 0, 1, 0), alu64(op::MUL, 0, 3), exit_insn(), lddw(0, 5),
                    exit_insn()});
  auto e = jit::make_jit(p, {});
  ASSERT_TRUE(e.ok()) << e.error().str();
  uint64_t cell = 7;
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(&cell, 8, true));
  const uint64_t args[5] = {reinterpret_cast<uintptr_t>(&cell), 0, 0, 0, 0};
  auto r = (*e)->call_function(ctx, 2, args);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 21u);
  EXPECT_FALSE((*e)->call_function(ctx, 6, args).ok()) << "second slot of an lddw";
  EXPECT_FALSE((*e)->call_function(ctx, p.size(), args).ok());
  // Entering mid-block keeps the count exact.
  vm::ExecContext c2;
  c2.regions.push_back(region_of(&cell, 8, true));
  auto in = vm::make_interpreter(p, {});
  ASSERT_TRUE(in.ok());
  ASSERT_TRUE((*in)->call_function(c2, 3, args).ok());
  const uint64_t interp_count = c2.insns_executed;
  c2.insns_executed = 0;
  ASSERT_TRUE((*e)->call_function(c2, 3, args).ok());
  EXPECT_EQ(c2.insns_executed, interp_count);
}

TEST(JitFlow, RandomProgramsAgree) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    testing::RandomProgOptions o;
    o.max_cpu = 4;
    const Prog p = testing::random_program(seed, o);
    expect_same(p, {}, "seed " + std::to_string(seed));
    RunSetup v;
    v.proofs = all_proven(p);  // kernel-acceptable programs
    expect_same(p, v, "verified, seed " + std::to_string(seed));
  }
}

TEST(JitFlow, CodeListing) {
  const Prog p = P({mov64(0, 10), lddw(1, 3), alu64r(op::DIV, 0, 1), exit_insn()});
  auto e = jit::make_jit(p, {});
  ASSERT_TRUE(e.ok()) << e.error().str();
  const auto& j = dynamic_cast<const jit::JitEngine&>(**e);
  ASSERT_EQ(j.insn_offsets().size(), p.size() + 1);
  EXPECT_EQ(j.insn_offsets()[2], j.insn_offsets()[3]) << "the lddw's second slot has no code";
  for (size_t i = 1; i < j.insn_offsets().size(); ++i) EXPECT_LE(j.insn_offsets()[i - 1], j.insn_offsets()[i]);
  EXPECT_LE(j.insn_offsets().back(), j.code().size());
  const auto div = j.code().subspan(j.insn_offsets()[3], j.insn_offsets()[4] - j.insn_offsets()[3]);
  std::string text;
  for (const auto& n : jit::disassemble_native(div, 0)) text += n.text + "\n";
  EXPECT_NE(text.find("div"), std::string::npos) << text;
}

// Verified code keeps every jump and exit, with the compare the CPU fuses to
// it, inside one 32-byte line (the JCC erratum): padding NOPs go before it.
TEST(JitFlow, VerifiedJumpsStayInside32ByteLines) {
  size_t jumps = 0, padded = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    testing::RandomProgOptions o;
    o.max_cpu = 4;
    const Prog p = testing::random_program(seed, o);
    vm::EngineOptions eo;
    const std::vector<uint32_t> proofs = all_proven(p);
    eo.proofs = proofs;
    auto e = jit::make_jit(p, eo);
    ASSERT_TRUE(e.ok()) << e.error().str();
    const auto& j = dynamic_cast<const jit::JitEngine&>(**e);
    ASSERT_TRUE(j.verified());
    const auto offs = j.insn_offsets();
    for (size_t pc = 0; pc < p.size(); ++pc) {
      const isa::InsnSpec* s = isa::lookup(p[pc]);
      if (!s || (s->kind != isa::Kind::Jump && s->kind != isa::Kind::Exit)) continue;
      const auto code = j.code().subspan(offs[pc], offs[pc + 1] - offs[pc]);
      const auto native = jit::disassemble_native(code, 0);
      size_t first = 0;  // the first instruction past the padding
      while (first < native.size() && native[first].text.rfind("nop", 0) == 0) ++first;
      if (first > 0) ++padded;
      ASSERT_LT(first, native.size());
      const size_t start = native[first].offset;
      const size_t lo = offs[pc] + start, end = offs[pc + 1];
      ASSERT_GT(end, lo);
      EXPECT_EQ(lo / 32, (end - 1) / 32) << "seed " << seed << " pc " << pc << ": [" << lo << ", " << end << ")";
      EXPECT_NE(end % 32, 0u) << "seed " << seed << " pc " << pc << " ends on a 32-byte boundary";
      ++jumps;
    }
  }
  EXPECT_GT(jumps, 500u);
  EXPECT_GT(padded, 10u);  // the rule did move some
}

}  // namespace
}  // namespace userbpf::jit_test
