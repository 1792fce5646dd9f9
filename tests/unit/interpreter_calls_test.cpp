// Interpreter calls (helpers, bpf-to-bpf, callx), runtime and build-time errors,
// and concurrent runs of one engine.
#include <atomic>
#include <thread>

#include "unit/interp_test_util.h"

namespace userbpf::interp_test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

uint64_t sum_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, vm::ExecContext*) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e;
}
uint64_t stop_helper(uint64_t code, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  ctx->stop = true;
  ctx->stop_value = code;
  return 0;
}
// 1 when [r1, r1 + r2) is accessible for writing, as a helper checking its arguments would.
uint64_t probe_helper(uint64_t p, uint64_t len, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return ctx->accessible(p, len, true) ? 1 : 0;
}
uint64_t const_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) { return 99; }

vm::HelperRegistry& registry() {
  static vm::HelperRegistry reg = [] {
    vm::HelperRegistry r;
    r.add(1, "sum", sum_helper);
    r.add(2, "stop", stop_helper);
    r.add(3, "probe", probe_helper);
    r.add(5, "const99", const_helper);
    return r;
  }();
  return reg;
}

// ---- helper calls ------------------------------------------------------------------------

TEST(InterpCall, HelperGetsArgumentsAndReturnsInR0) {
  const Prog p = P({mov64(1, 1), mov64(2, 10), mov64(3, 100), mov64(4, 1000), mov64(5, 10000), call(1),
                    alu64(op::ADD, 0, 1), exit_insn()});
  EXPECT_EQ(run_ok(p, &registry()), 1u + 20 + 300 + 4000 + 50000 + 1);
}

TEST(InterpCall, HelperStopEndsTheProgram) {
  const Prog p = P({mov64(1, 42), call(2), mov64(0, 1), exit_insn()});
  vm::ExecContext ctx;
  EXPECT_EQ(run_ok(p, ctx, &registry()), 42u);
  EXPECT_EQ(ctx.insns_executed, 2u);
  // The flag is reset by the next run.
  EXPECT_EQ(run_ok(P({mov64(0, 5), exit_insn()}), ctx), 5u);
}

TEST(InterpCall, HelpersSeeTheLiveStack) {
  vm::ExecContext ctx;
  EXPECT_EQ(run_ok(P({mov64r(1, 10), alu64(op::ADD, 1, -16), mov64(2, 16), call(3), exit_insn()}), ctx, &registry()),
            1u);
  EXPECT_EQ(run_ok(P({mov64r(1, 10), alu64(op::ADD, 1, -8), mov64(2, 16), call(3), exit_insn()}), ctx, &registry()),
            0u);
  EXPECT_EQ(ctx.stack_lo, 0u);  // cleared after the run: the stack is gone
  EXPECT_EQ(ctx.stack_hi, 0u);
}

TEST(InterpCall, UnknownHelperIsRefusedAtBuild) {
  auto e = build(P({call(4), exit_insn()}), &registry());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().insn, 0);
  EXPECT_TRUE(contains(e.error().message, "helper 4")) << e.error().message;
  auto none = build(P({mov64(0, 0), call(1), exit_insn()}));  // no registry at all
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().insn, 1);
}

TEST(InterpCall, CallxUsesTheRegisterValueAsHelperId) {
  EXPECT_EQ(run_ok(P({mov64(2, 5), ins(op::JMP | op::CALL | op::X, 2), exit_insn()}), &registry()), 99u);
  // LLVM's encoding: register number in imm, dst = 0.
  EXPECT_EQ(run_ok(P({mov64(3, 5), ins(op::JMP | op::CALL | op::X, 0, 0, 0, 3), exit_insn()}), &registry()), 99u);
  auto r = run(P({mov64(2, 6), ins(op::JMP | op::CALL | op::X, 2), exit_insn()}), &registry());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_EQ(r.error().insn, 1);
  EXPECT_TRUE(contains(r.error().message, "helper id 6")) << r.error().message;
}

// ---- bpf-to-bpf calls ---------------------------------------------------------------------

TEST(InterpCall, LocalCallSavesCalleeSavedRegisters) {
  const Prog p = P({
      mov64(6, 7), mov64(1, 5), call_local(2),  // -> 5
      alu64r(op::ADD, 0, 6), exit_insn(),
      mov64(6, 100), mov64r(0, 1), alu64(op::MUL, 0, 2), exit_insn(),  // r0 = r1 * 2, clobbers r6
  });
  EXPECT_EQ(run_ok(p), 17u);
}

TEST(InterpCall, CalleeHasItsOwnFrameAndSeesTheCallers) {
  const Prog p = P({
      st(op::DW, 10, -8, 0x55), mov64r(1, 10), alu64(op::ADD, 1, -8), mov64r(6, 10), call_local(3),
      alu64r(op::SUB, 6, 10), alu64r(op::ADD, 0, 6), exit_insn(),  // r10 is back: adds 0
      // callee: writes its own r10-8, reads the caller's slot through r1
      st(op::DW, 10, -8, 1), ldx(op::DW, 0, 1, 0), ldx(op::DW, 2, 10, -8), alu64r(op::ADD, 0, 2), exit_insn(),
  });
  EXPECT_EQ(run_ok(p), 0x56u);
}

// main calls f(depth); f recurses until r1 reaches 0: frames used = 1 + depth.
Prog recursion(int32_t depth) {
  return P({mov64(1, depth), call_local(2), mov64(0, 1), exit_insn(),
            alu64(op::SUB, 1, 1), jmp(op::JEQ, 1, 0, 1), call_local(-3), exit_insn()});
}

TEST(InterpCall, EightFramesAreAllowed) { EXPECT_EQ(run_ok(recursion(7)), 1u); }

TEST(InterpCall, NineFramesAreAnError) {
  auto r = run(recursion(8));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_EQ(r.error().insn, 6);
  EXPECT_TRUE(contains(r.error().message, "call depth exceeds 8")) << r.error().message;
}

TEST(InterpCall, CalleeCannotTouchStackBelowItsFrame) {
  // Deep frame reads 8 bytes under its own frame: not live.
  auto r = run(P({call_local(1), exit_insn(), ldx(op::DW, 0, 10, -520), exit_insn()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 2);
}

// ---- runtime errors ---------------------------------------------------------------------------

TEST(InterpError, OutOfBoundsReadNamesInsnAndDisassembly) {
  alignas(8) uint8_t buf[8] = {};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, true));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  const Prog p = P({mov64(0, 0), ldx(op::W, 0, 1, 6), exit_insn()});
  auto r = run(p, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_EQ(r.error().insn, 1);
  EXPECT_TRUE(contains(r.error().message, "out-of-bounds read of 4 bytes")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, isa::disassemble(p[1]))) << r.error().message;
  EXPECT_TRUE(contains(r.error().str(), "insn 1")) << r.error().str();
  EXPECT_EQ(ctx.insns_executed, 2u);
  EXPECT_EQ(run_ok(P({ldx(op::W, 0, 1, 4), exit_insn()}), ctx), 0u);  // the last 4 bytes are fine
}

TEST(InterpError, OutOfBoundsWriteOutsideEveryRegion) {
  const Prog p = P({mov64(1, 0x1000), mov64(2, 3), stx(op::DW, 1, 2, 8), exit_insn()});
  auto r = run(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 2);
  EXPECT_TRUE(contains(r.error().message, "out-of-bounds write of 8 bytes at 0x1008 (not in any region)"))
      << r.error().message;
  EXPECT_TRUE(contains(r.error().message, isa::disassemble(p[2]))) << r.error().message;
}

TEST(InterpError, StackAboveTheFramePointerIsOutOfBounds) {
  auto r = run(P({ldx(op::B, 0, 10, 0), exit_insn()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 0);
  auto w = run(P({st(op::DW, 10, -516, 1), exit_insn()}));
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(contains(w.error().message, "write of 8 bytes")) << w.error().message;
  // Address arithmetic that wraps around must not sneak past the check.
  auto wrap = run(P({lddw(1, ~0ull - 2), ldx(op::DW, 0, 1, 0), exit_insn()}));
  ASSERT_FALSE(wrap.ok());
  EXPECT_EQ(wrap.error().insn, 2);
}

TEST(InterpError, WriteToReadOnlyRegion) {
  alignas(8) uint8_t buf[8] = {9};
  vm::ExecContext ctx;
  ctx.regions.push_back(region_of(buf, sizeof buf, false, "ctx"));
  ctx.args[0] = reinterpret_cast<uintptr_t>(buf);
  EXPECT_EQ(run_ok(P({ldx(op::B, 0, 1, 0), exit_insn()}), ctx), 9u);
  auto r = run(P({st(op::B, 1, 0, 1), exit_insn()}), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().insn, 0);
  EXPECT_TRUE(contains(r.error().message, "read-only")) << r.error().message;
  EXPECT_EQ(buf[0], 9);
  auto a = run(P({mov64(2, 1), atomic(op::DW, 1, 2, 0, op::ADD), exit_insn()}), ctx);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().insn, 1);
}

TEST(InterpError, BudgetStopsAnInfiniteLoop) {
  vm::ExecContext ctx;
  ctx.insn_budget = 1000;
  auto r = run(P({mov64(0, 0), ja(-1), exit_insn()}), ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_EQ(r.error().insn, 1);
  EXPECT_TRUE(contains(r.error().message, "instruction budget of 1000 exceeded")) << r.error().message;
  EXPECT_GT(ctx.insns_executed, 1000u);
  EXPECT_LT(ctx.insns_executed, 1100u);
}

TEST(InterpError, BudgetCoversStraightLineCode) {
  vm::ExecContext ctx;
  ctx.insn_budget = 3;
  EXPECT_EQ(run_ok(P({mov64(0, 1), mov64(0, 2), exit_insn()}), ctx), 2u);
  auto r = run(P({mov64(0, 1), mov64(0, 2), mov64(0, 3), exit_insn()}), ctx);
  EXPECT_FALSE(r.ok());
}

TEST(InterpError, FallingOffTheEnd) {
  auto r = run(P({mov64(0, 1)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_EQ(r.error().insn, 1);
  auto cond = run(P({mov64(0, 1), jmp(op::JEQ, 0, 0, -1)}));  // not taken: runs past the end
  ASSERT_FALSE(cond.ok());
  EXPECT_EQ(cond.error().insn, 2);
}

// ---- build-time refusals ------------------------------------------------------------------------

TEST(InterpBuild, UnresolvedLddwIsRefused) {
  auto e = build(P({mov64(0, 0), lddw(1, 3, isa::pseudo::MAP_FD), exit_insn()}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().insn, 1);
  EXPECT_TRUE(contains(e.error().message, "unresolved")) << e.error().message;
  EXPECT_TRUE(build(P({mov64(0, 0), lddw(1, 3), exit_insn()})).ok());
}

TEST(InterpBuild, KfuncCallIsRefused) {
  auto e = build(P({ins(op::JMP | op::CALL, 0, isa::pseudo::CALL_KFUNC, 0, 1234), exit_insn()}), &registry());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().insn, 0);
  EXPECT_TRUE(contains(e.error().message, "kfunc")) << e.error().message;
}

TEST(InterpBuild, InvalidProgramsAndCpuLevel) {
  EXPECT_FALSE(build(P({ins(0xff), exit_insn()})).ok());
  EXPECT_FALSE(build(P({ja(5), exit_insn()})).ok());
  EXPECT_FALSE(build(Prog{}).ok());
  vm::EngineOptions opts;
  opts.max_cpu = 3;
  const Prog sdiv = P({alu64(op::DIV, 0, 3, 1), exit_insn()});
  EXPECT_FALSE(vm::make_interpreter(sdiv, opts).ok());
  opts.max_cpu = 4;
  EXPECT_TRUE(vm::make_interpreter(sdiv, opts).ok());
}

TEST(InterpBuild, FetchIntoFramePointerIsRefused) {
  auto e = build(P({atomic(op::DW, 1, 10, 0, op::ADD | op::FETCH), exit_insn()}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().insn, 0);
}

// ---- concurrency --------------------------------------------------------------------------------

// Both engines: one engine, built once, run by many threads at once.
class EngineThreads : public ::testing::TestWithParam<const char*> {};

TEST_P(EngineThreads, OneEngineManyThreads) {
  // Each run: r0 = sum(0..n-1) * 3 computed in a loop with stack traffic, plus one atomic
  // increment of a shared counter per iteration.
  const Prog p = P({
      mov64(0, 0), mov64(3, 0),                                   // r0 = acc, r3 = i
      mov64r(4, 3), alu64(op::MUL, 4, 3), stx(op::DW, 10, 4, -8), // loop: stack round trip
      ldx(op::DW, 4, 10, -8), alu64r(op::ADD, 0, 4),
      mov64(5, 1), atomic(op::DW, 2, 5, 0, op::ADD),              // shared counter
      alu64(op::ADD, 3, 1), jmpr(op::JLT, 3, 1, -9), exit_insn(),
  });
  auto e = vm::make_engine(GetParam(), p);
  ASSERT_TRUE(e.ok()) << e.error().str();
  const vm::Engine& engine = **e;
  alignas(8) uint64_t counter = 0;
  constexpr int kThreads = 8, kRuns = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      vm::ExecContext ctx;
      ctx.regions.push_back(region_of(&counter, sizeof counter, true, "map value"));
      for (int i = 0; i < kRuns; ++i) {
        const uint64_t n = 100 + static_cast<uint64_t>(t * 10 + i);
        ctx.args[0] = n;
        ctx.args[1] = reinterpret_cast<uintptr_t>(&counter);
        auto r = engine.run(ctx);
        if (!r.ok() || *r != 3 * n * (n - 1) / 2) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  uint64_t expected = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kRuns; ++i) expected += 100 + static_cast<uint64_t>(t * 10 + i);
  EXPECT_EQ(counter, expected);
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineThreads, ::testing::Values("interp", "jit"));

}  // namespace
}  // namespace userbpf::interp_test
