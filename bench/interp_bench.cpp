// Engine speed: nanoseconds per executed instruction on compute-bound loops
// (~1e5 instructions per run), plus the fixed cost of one short run.  Each runs
// on the interpreter, on the JIT without proofs (every access checked, the
// instruction budget counted) and on the JIT with the proofs a verifier would
// give these programs (jit_verified).
#include <benchmark/benchmark.h>

#include <vector>

#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace {

using userbpf::isa::Insn;
namespace op = userbpf::isa::op;
namespace vm = userbpf::vm;

Insn ins(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  return userbpf::isa::make_insn(opcode, dst, src, off, imm);
}

constexpr int32_t kIterations = 10'000;

// A hash-like loop: ALU ops plus a stack store/load per iteration (10 insns).
std::vector<Insn> stack_loop() {
  return {
      ins(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0),
      ins(op::ALU64 | op::MOV | op::K, 1, 0, 0, 0),
      ins(op::ALU64 | op::MOV | op::K, 2, 0, 0, 0x1234),
      ins(op::ALU64 | op::MOV | op::X, 3, 1),                        // loop:
      ins(op::ALU64 | op::MUL | op::K, 3, 0, 0, static_cast<int32_t>(0x9e3779b1u)),
      ins(op::ALU64 | op::ADD | op::X, 0, 3),
      ins(op::ALU64 | op::XOR | op::X, 0, 2),
      ins(op::STX | op::MEM | op::DW, 10, 0, -8),
      ins(op::LDX | op::MEM | op::DW, 4, 10, -8),
      ins(op::ALU64 | op::RSH | op::K, 4, 0, 0, 3),
      ins(op::ALU64 | op::ADD | op::X, 2, 4),
      ins(op::ALU64 | op::ADD | op::K, 1, 0, 0, 1),
      ins(op::JMP | op::JLT | op::K, 1, 0, -10, kIterations),
      ins(op::JMP | op::EXIT),
  };
}

// Sums 32-bit words of an input region (r1 = base, r2 = word count): region-checked loads.
std::vector<Insn> region_loop() {
  return {
      ins(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0),
      ins(op::ALU64 | op::MOV | op::X, 3, 1),
      ins(op::ALU64 | op::LSH | op::K, 2, 0, 0, 2),
      ins(op::ALU64 | op::ADD | op::X, 2, 1),                        // r2 = end
      ins(op::LDX | op::MEM | op::W, 4, 3, 0),                       // loop:
      ins(op::ALU | op::XOR | op::K, 4, 0, 0, 0x5a5a),
      ins(op::ALU64 | op::ADD | op::X, 0, 4),
      ins(op::ALU64 | op::ADD | op::K, 3, 0, 0, 4),
      ins(op::JMP | op::JLT | op::X, 3, 2, -5),
      ins(op::JMP | op::EXIT),
  };
}

void report(benchmark::State& state, uint64_t insns_per_run) {
  // Inverted rate of (insns * 1e-9) per second = nanoseconds per instruction.
  state.counters["ns_per_insn"] = benchmark::Counter(static_cast<double>(insns_per_run) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.counters["insns"] = static_cast<double>(insns_per_run);
}

enum EngineKind { kInterp = 0, kJit = 1, kJitVerified = 2 };
const char* const kEngineNames[] = {"interp", "jit", "jit_verified"};

// `proven`: extra proof bits per slot for the jit_verified variant (memory accesses).
std::unique_ptr<vm::Engine> build_or_skip(benchmark::State& state, const std::vector<Insn>& prog,
                                          std::vector<uint32_t> proven = {}) {
  const auto kind = static_cast<EngineKind>(state.range(0));
  state.SetLabel(kEngineNames[kind]);
  vm::EngineOptions opts;
  std::vector<uint32_t> proofs;
  if (kind == kJitVerified) {
    proofs.assign(prog.size(), vm::proof::kVerified);
    for (size_t i = 0; i < proven.size() && i < proofs.size(); ++i) proofs[i] |= proven[i];
    opts.proofs = proofs;
  }
  auto e = vm::make_engine(kind == kInterp ? "interp" : "jit", prog, opts);
  if (!e.ok()) {
    state.SkipWithError(e.error().str().c_str());
    return nullptr;
  }
  return std::move(*e);
}

// Instructions one run executes, counted by the interpreter (the verified JIT does not count).
uint64_t count_insns(const std::vector<Insn>& prog, vm::ExecContext ctx) {
  auto e = vm::make_interpreter(prog);
  if (!e.ok()) return 0;
  (void)(*e)->run(ctx);
  return ctx.insns_executed;
}

void BM_StackLoop(benchmark::State& state) {
  auto engine = build_or_skip(state, stack_loop());
  if (!engine) return;
  vm::ExecContext ctx;
  for (auto _ : state) {
    auto r = engine->run(ctx);
    if (!r.ok()) {
      state.SkipWithError(r.error().str().c_str());
      return;
    }
    benchmark::DoNotOptimize(*r);
  }
  report(state, count_insns(stack_loop(), vm::ExecContext{}));
}
BENCHMARK(BM_StackLoop)->DenseRange(kInterp, kJitVerified);

void BM_RegionLoop(benchmark::State& state) {
  std::vector<uint32_t> proven(region_loop().size(), 0);
  proven[4] = vm::proof::kMemSafe;  // the load
  auto engine = build_or_skip(state, region_loop(), proven);
  if (!engine) return;
  std::vector<uint32_t> data(20'000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint32_t>(i * 2654435761u);
  vm::ExecContext ctx;
  // A few unrelated regions first, as a real context (ctx, packet, maps) would have.
  static uint8_t other[3][64];
  for (auto& o : other) ctx.regions.push_back({reinterpret_cast<uintptr_t>(o), sizeof o, true, "map value"});
  ctx.regions.push_back({reinterpret_cast<uintptr_t>(data.data()), data.size() * 4, false, "input"});
  ctx.args[0] = reinterpret_cast<uintptr_t>(data.data());
  ctx.args[1] = data.size();
  for (auto _ : state) {
    auto r = engine->run(ctx);
    if (!r.ok()) {
      state.SkipWithError(r.error().str().c_str());
      return;
    }
    benchmark::DoNotOptimize(*r);
  }
  report(state, count_insns(region_loop(), ctx));
}
BENCHMARK(BM_RegionLoop)->DenseRange(kInterp, kJitVerified);

// Fixed cost of a run (stack setup, context bookkeeping) on a 2-instruction program.
void BM_ShortRun(benchmark::State& state) {
  auto engine = build_or_skip(state, {ins(op::ALU64 | op::MOV | op::K, 0, 0, 0, 1), ins(op::JMP | op::EXIT)});
  if (!engine) return;
  vm::ExecContext ctx;
  for (auto _ : state) {
    auto r = engine->run(ctx);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ShortRun)->DenseRange(kInterp, kJitVerified);

}  // namespace
