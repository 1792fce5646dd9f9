// Helpers from running programs (runtime + each engine): map helpers, bpf_loop
// and bpf_for_each_map_elem callbacks (lddw src=FUNC), faults inside callbacks,
// call depth through callbacks, and tail calls with the kernel's limit.
#include <cstring>

#include "unit/helpers_test_util.h"
#include "userbpf/jit.h"

namespace userbpf::helpers_test {
namespace {

using maps::MapType;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<isa::Insn> assemble(const std::string& text) {
  auto r = isa::assemble(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
  return r.ok() ? *r : std::vector<isa::Insn>{};
}

// Makes the lddw at pc a pseudo load: a map index (MAP_FD) or a callback (FUNC, target pc).
void map_ref(std::vector<isa::Insn>& p, size_t pc, int32_t index) {
  ASSERT_TRUE(pc + 1 < p.size() && isa::is_lddw(p[pc])) << pc;
  p[pc].src = isa::pseudo::MAP_FD;
  p[pc].imm = index;
}
void func_ref(std::vector<isa::Insn>& p, size_t pc, size_t target) {
  ASSERT_TRUE(pc + 1 < p.size() && isa::is_lddw(p[pc])) << pc;
  p[pc].src = isa::pseudo::FUNC;
  p[pc].imm = static_cast<int32_t>(target) - static_cast<int32_t>(pc) - 1;
}

// Every program runs on both engines.
class HelperProgs : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Engines, HelperProgs, ::testing::Values("interp", "jit"));

TEST_P(HelperProgs, MapUpdateThenLookup) {
  auto p = assemble(R"(
    *(u32 *)(r10 - 4) = 3
    *(u64 *)(r10 - 16) = 77
    r1 = 0 ll
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0
    call 2
    if r0 != 0 goto +8
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto +2
    r0 = *(u64 *)(r0 + 0)
    exit
    r0 = 99
    exit
  )");
  map_ref(p, 2, 0);
  map_ref(p, 11, 0);
  Harness h({map_spec(MapType::Hash, 4, 8, 8)}, {program_spec(p)}, true, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 77u);
  uint32_t k = 3;
  uint64_t v = 0;
  EXPECT_EQ(h.map(0)->sys_lookup(&k, &v), 0);
  EXPECT_EQ(v, 77u);
}

// Array and per-CPU array lookups (the JIT's trusted path computes the element
// itself): index 3 of 4 finds the value user space stored, index 4 is NULL.
TEST_P(HelperProgs, ArrayLookupInRangeAndPastTheEnd) {
  auto p = assemble(R"(
    *(u32 *)(r10 - 4) = 3
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto +9
    r6 = *(u64 *)(r0 + 0)
    *(u32 *)(r10 - 4) = 4
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    if r0 != 0 goto +2
    r0 = r6
    exit
    r0 = 99
    exit
  )");
  map_ref(p, 1, 0);
  map_ref(p, 9, 0);
  for (MapType t : {MapType::Array, MapType::PercpuArray}) {
    SCOPED_TRACE(maps::map_type_name(static_cast<uint32_t>(t)));
    Harness h({map_spec(t, 4, 8, 4)}, {program_spec(p)}, true, GetParam());
    ASSERT_TRUE(h.ok());
    const uint32_t k = 3;
    std::vector<uint64_t> v(h.map(0)->sys_value_size() / 8, 1234);
    ASSERT_EQ(h.map(0)->sys_update(&k, v.data(), 0), 0);
    auto r = h.run();
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ(*r, 1234u);
  }
}

// bpf_loop(10, cb, &sum, 0) where cb adds the index and stops after index 6:
// 7 iterations (the stopping one counts), sum 0+...+6 = 21.
std::vector<isa::Insn> loop_prog(uint32_t stop_at, const char* cb_extra = "") {
  auto p = assemble(std::string(R"(
    *(u64 *)(r10 - 8) = 0
    r1 = 10
    r2 = 0 ll
    r3 = r10
    r3 += -8
    r4 = 0
    call 181
    r1 = *(u64 *)(r10 - 8)
    r0 <<= 32
    r0 |= r1
    exit
    r3 = *(u64 *)(r2 + 0)
    r3 += r1
    *(u64 *)(r2 + 0) = r3
    *(u64 *)(r10 - 8) = r3
  )") + cb_extra + R"(
    r0 = 0
    if r1 != )" + std::to_string(stop_at) + R"( goto +1
    r0 = 1
    exit
  )");
  func_ref(p, 2, 12);
  return p;
}

TEST_P(HelperProgs, LoopCallbackSeesCallerStack) {
  Harness h({}, {program_spec(loop_prog(6))}, true, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, (7ull << 32) | 21);
  // Never stopping: all 10 run.
  Harness all({}, {program_spec(loop_prog(100))}, true, GetParam());
  auto r2 = all.run();
  ASSERT_TRUE(r2.ok()) << r2.error().str();
  EXPECT_EQ(*r2, (10ull << 32) | 45);
}

TEST_P(HelperProgs, LoopArgumentErrorsAndBadCallback) {
  Harness h({}, {program_spec(loop_prog(6))}, true, GetParam());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h.scall(BPF_FUNC_loop, 1, 12, 0, 1), -EINVAL);
  EXPECT_EQ(h.scall(BPF_FUNC_loop, (1u << 23) + 1, 12, 0, 0), -E2BIG);
  EXPECT_EQ(h.scall(BPF_FUNC_loop, 0, 12, 0, 0), 0);
  EXPECT_FALSE(h.ctx.stop);
  // A callback address outside the program ends the run with an error.
  h.call(BPF_FUNC_loop, 1, 9999, 0, 0);
  ASSERT_TRUE(h.ctx.stop);
  ASSERT_TRUE(h.ctx.stop_error.has_value());
  EXPECT_TRUE(contains(h.ctx.stop_error->message, "not an instruction")) << h.ctx.stop_error->message;
  h.ctx.stop = false;
  h.ctx.stop_error.reset();
  h.call(BPF_FUNC_loop, 1, 3, 0, 0);  // second slot of the lddw
  EXPECT_TRUE(h.ctx.stop_error.has_value());
}

TEST_P(HelperProgs, FaultInCallbackFailsTheRun) {
  // The callback also writes through r2 + 512: past the caller's stack.
  auto p = loop_prog(6, "    *(u64 *)(r2 + 512) = r3\n");
  Harness h({}, {program_spec(p)}, false, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Runtime);
  EXPECT_TRUE(contains(r.error().message, "out-of-bounds write")) << r.error().str();
}

TEST_P(HelperProgs, RecursiveCallbacksHitTheCallDepthLimit) {
  auto p = assemble(R"(
    r1 = 1
    r2 = 0 ll
    r3 = 0
    r4 = 0
    call 181
    exit
    r1 = 1
    r2 = 0 ll
    r3 = 0
    r4 = 0
    call 181
    r0 = 0
    exit
  )");
  func_ref(p, 1, 7);
  func_ref(p, 8, 7);
  Harness h({}, {program_spec(p)}, false, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "call depth")) << r.error().str();
}

// for_each over a map: the callback adds key + value into *ctx; returns
// visited << 32 | sum.  stop_key: the callback returns 1 on that key.
std::vector<isa::Insn> for_each_prog(uint32_t stop_key, bool write_key = false) {
  auto p = assemble(std::string(R"(
    *(u64 *)(r10 - 8) = 0
    r1 = 0 ll
    r2 = 0 ll
    r3 = r10
    r3 += -8
    r4 = 0
    call 164
    r1 = *(u64 *)(r10 - 8)
    r0 <<= 32
    r0 |= r1
    exit
    r5 = *(u32 *)(r2 + 0)
    r6 = *(u64 *)(r3 + 0)
    r6 += r5
    r7 = *(u64 *)(r4 + 0)
    r7 += r6
    *(u64 *)(r4 + 0) = r7
  )") + (write_key ? "    *(u32 *)(r2 + 0) = r7\n" : "") + R"(
    r0 = 0
    if r5 != )" + std::to_string(stop_key) + R"( goto +1
    r0 = 1
    exit
  )");
  map_ref(p, 1, 0);
  func_ref(p, 3, 13);
  return p;
}

TEST_P(HelperProgs, ForEachHashAndArray) {
  Harness h({map_spec(MapType::Hash, 4, 8, 8)}, {program_spec(for_each_prog(1000))}, true, GetParam());
  ASSERT_TRUE(h.ok());
  for (uint32_t k = 1; k <= 3; ++k) {
    uint64_t v = k * 10;
    ASSERT_EQ(h.map(0)->sys_update(&k, &v, 0), 0);
  }
  auto r = h.run();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, (3ull << 32) | 66);
  EXPECT_EQ(h.scall(BPF_FUNC_for_each_map_elem, h.map_ptr(0), 13, 0, 1), -EINVAL);

  // Array of 4: keys 0..3 with values 5 each; stop at key 1 after visiting 0 and 1.
  Harness a({map_spec(MapType::Array, 4, 8, 4)}, {program_spec(for_each_prog(1))}, true, GetParam());
  ASSERT_TRUE(a.ok());
  for (uint32_t k = 0; k < 4; ++k) {
    uint64_t v = 5;
    ASSERT_EQ(a.map(0)->sys_update(&k, &v, 0), 0);
  }
  auto r2 = a.run();
  ASSERT_TRUE(r2.ok()) << r2.error().str();
  EXPECT_EQ(*r2, (2ull << 32) | 11);
}

TEST_P(HelperProgs, ForEachKeyIsReadOnly) {
  Harness h({map_spec(MapType::Array, 4, 8, 2)}, {program_spec(for_each_prog(1000, true))}, false, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "read-only")) << r.error().str();
}

TEST_P(HelperProgs, ForEachRefusesOtherMapTypes) {
  Harness h({map_spec(MapType::Queue, 0, 8, 2)}, {program_spec(for_each_prog(1000))}, false, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r >> 32, static_cast<uint32_t>(-EINVAL));
}

// Program 0 tail-calls slot r3 of the prog_array; program 1 returns 42 + the
// ctx it got; program 2 counts its runs in an array map and tail-calls itself.
TEST_P(HelperProgs, TailCalls) {
  auto caller = assemble(R"(
    r6 = r1
    r2 = 0 ll
    r3 = *(u32 *)(r6 + 0)
    call 12
    r0 = 1
    exit
  )");
  map_ref(caller, 1, 0);
  auto target = assemble(R"(
    r0 = *(u32 *)(r1 + 4)
    r0 += 42
    exit
  )");
  auto self = assemble(R"(
    r6 = r1
    *(u32 *)(r10 - 4) = 0
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto +8
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    r1 = r6
    r2 = 0 ll
    r3 = 2
    call 12
    r0 = 0
    exit
  )");
  map_ref(self, 2, 1);
  map_ref(self, 12, 0);
  Harness h({map_spec(MapType::ProgArray, 4, 4, 4, "jmp"), map_spec(MapType::Array, 4, 8, 1, "count")},
            {program_spec(caller, "caller"), program_spec(target, "target"), program_spec(self, "self")}, true,
            GetParam());
  ASSERT_TRUE(h.ok());
  for (uint32_t slot : {0u, 2u}) {
    uint32_t id = h.obj->programs()[slot == 0 ? 1 : 2]->id();
    ASSERT_EQ(h.map(0)->sys_update(&slot, &id, 0), 0);
  }
  uint32_t input[2] = {0, 100};  // slot, value the target adds
  h.allow(input, sizeof input, false);
  auto r = h.run(0, addr(input));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 142u) << "the target's r0 ends the caller";
  input[0] = 1;  // empty slot: the caller goes on
  r = h.run(0, addr(input));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 1u);
  input[0] = 4;  // out of range
  r = h.run(0, addr(input));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 1u);

  // The chain: the first run plus 33 tail calls, then the 34th attempt fails.
  r = h.run(2, addr(input));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 0u);  // the 34th tail call failed and the program went on to return 0
  uint32_t k = 0;
  uint64_t runs = 0;
  ASSERT_EQ(h.map(1)->sys_lookup(&k, &runs), 0);
  EXPECT_EQ(runs, 34u);
}

TEST_P(HelperProgs, TailCallIntoFaultingProgramFailsTheRun) {
  auto caller = assemble(R"(
    r2 = 0 ll
    r3 = 0
    call 12
    r0 = 1
    exit
  )");
  map_ref(caller, 0, 0);
  auto bad = assemble(R"(
    r0 = *(u64 *)(r1 + 0)
    exit
  )");
  Harness h({map_spec(MapType::ProgArray, 4, 4, 1)}, {program_spec(caller, "caller"), program_spec(bad, "bad")}, true,
            GetParam());
  ASSERT_TRUE(h.ok());
  uint32_t slot = 0, id = h.obj->programs()[1]->id();
  ASSERT_EQ(h.map(0)->sys_update(&slot, &id, 0), 0);
  auto r = h.run(0, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error().message, "out-of-bounds read")) << r.error().str();
}

// The interpreter's side on its own: lddw src=FUNC decoded to the absolute
// index, call_function from a helper, the caller's stack reachable by pointer.
const vm::Engine* g_engine = nullptr;
uint64_t call_back(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const uint64_t args[5] = {r2, 0, 0, 0, 0};
  auto r = g_engine->call_function(*ctx, r1, args);
  return r.ok() ? *r : 0xbad;
}

TEST_P(HelperProgs, CallFunctionLddwFuncAndCallerStack) {
  auto p = assemble(R"(
    *(u64 *)(r10 - 8) = 5
    r1 = 0 ll
    r2 = r10
    r2 += -8
    call 1000
    r1 = *(u64 *)(r10 - 8)
    r0 += r1
    exit
    r3 = *(u64 *)(r1 + 0)
    r3 *= 2
    *(u64 *)(r1 + 0) = r3
    *(u64 *)(r10 - 8) = r3
    r0 = r3
    r0 += 1
    exit
  )");
  func_ref(p, 1, 9);
  vm::HelperRegistry reg;
  reg.add(1000, "call_back", call_back);
  vm::EngineOptions opts;
  opts.helpers = &reg;
  auto e = vm::make_engine(GetParam(), p, opts);
  ASSERT_TRUE(e.ok()) << e.error().str();
  g_engine = e->get();
  vm::ExecContext ctx;
  ctx.helpers = &reg;
  auto r = (*e)->run(ctx);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 21u);  // callback: 5*2+1, caller adds the doubled 10
  EXPECT_TRUE(ctx.regions.empty()) << "the caller-stack region is gone after the call";
  // Entries that are not instructions, and a function outside a run.
  const uint64_t args[5] = {0, 0, 0, 0, 0};
  EXPECT_FALSE((*e)->call_function(ctx, 2, args).ok()) << "second slot of an lddw";
  EXPECT_FALSE((*e)->call_function(ctx, p.size(), args).ok());
  uint64_t cell = 7;
  ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(&cell), 8, true, "cell"});
  const uint64_t args2[5] = {addr(&cell), 0, 0, 0, 0};
  auto c = (*e)->call_function(ctx, 9, args2);
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(*c, 15u);
  EXPECT_EQ(cell, 14u);
  // A function address outside the program is refused when the engine is built.
  func_ref(p, 1, 40);
  EXPECT_FALSE(vm::make_engine(GetParam(), p, opts).ok());
}

TEST_P(HelperProgs, TracePrintkFromProgramGoesToSink) {
  auto p = assemble(R"(
    *(u64 *)(r10 - 8) = 0
    *(u32 *)(r10 - 8) = 622881128
    *(u16 *)(r10 - 4) = 100
    r1 = r10
    r1 += -8
    r2 = 6
    r3 = 7
    call 6
    exit
  )");
  // "hi %d" little-endian: 'h' 'i' ' ' '%' = 0x25206968, then 'd' NUL.
  Harness h({}, {program_spec(p)}, true, GetParam());
  ASSERT_TRUE(h.ok());
  auto r = h.run();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, 4u);
  ASSERT_EQ(h.trace.size(), 1u);
  EXPECT_EQ(h.trace[0], "hi 7");
}

// runtime::ObjectOptions' default engine, "auto": the JIT for a verified
// program (where the host has one), the checked interpreter without verification.
TEST(EngineChoice, AutoIsTheJitForVerifiedProgramsOnly) {
  EXPECT_EQ(runtime::ObjectOptions{}.engine, "auto");
  Harness verified({}, {}, true, "auto");
  ASSERT_TRUE(verified.ok());
  EXPECT_STREQ(verified.obj->programs()[0]->engine().name(), jit::available() ? "jit" : "interpreter");
  Harness unverified({}, {}, false, "auto");
  ASSERT_TRUE(unverified.ok());
  EXPECT_STREQ(unverified.obj->programs()[0]->engine().name(), "interpreter");
}

}  // namespace
}  // namespace userbpf::helpers_test
