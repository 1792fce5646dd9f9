// JIT compile time per instruction: vm::make_engine("jit") on every
// clang-compiled test program concatenated (a realistic mix, BM_JitCompileCorpus)
// and on generated programs of 1k-16k instructions (random ALU and stack code,
// forward branches every few instructions, divisions, lddw: a worst case for
// branch prediction), with and without proofs; the interpreter's build time
// alongside.  Counter ns_per_insn = wall time of one build / instruction slots.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "userbpf/helpers.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/vm.h"

namespace {

using userbpf::isa::Insn;
namespace op = userbpf::isa::op;
namespace vm = userbpf::vm;

Insn ins(uint8_t opcode, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0) {
  return userbpf::isa::make_insn(opcode, dst, src, off, imm);
}

std::vector<Insn> generated(size_t n, uint64_t seed) {
  auto next = [&seed] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(seed >> 33);
  };
  static const uint8_t kAlu[] = {op::ADD, op::SUB, op::MUL, op::OR, op::AND, op::XOR, op::LSH, op::RSH, op::ARSH, op::MOV};
  static const uint8_t kJmp[] = {op::JEQ, op::JNE, op::JGT, op::JGE, op::JSGT, op::JSLT, op::JSET, op::JLE};
  std::vector<Insn> p;
  for (uint8_t r = 0; r < 10; ++r) p.push_back(ins(op::ALU64 | op::MOV | op::K, r, 0, 0, static_cast<int32_t>(next())));
  while (p.size() + 3 < n) {
    const uint32_t k = next() % 16;
    const uint8_t dst = static_cast<uint8_t>(next() % 10), src = static_cast<uint8_t>(next() % 10);
    const uint8_t cls = (next() & 1) ? op::ALU64 : op::ALU;
    if (k < 6) {
      const uint8_t a = kAlu[next() % std::size(kAlu)];
      const bool shift = a == op::LSH || a == op::RSH || a == op::ARSH;
      p.push_back(ins(cls | a | op::K, dst, 0, 0, shift ? static_cast<int32_t>(next() % 32) : static_cast<int32_t>(next())));
    } else if (k < 9) {
      p.push_back(ins(cls | kAlu[next() % std::size(kAlu)] | op::X, dst, src));
    } else if (k < 11) {
      const int16_t off = static_cast<int16_t>(-8 * (1 + next() % 32));
      if (next() & 1) p.push_back(ins(op::STX | op::MEM | op::DW, 10, src, off));
      else p.push_back(ins(op::LDX | op::MEM | op::DW, dst, 10, off));
    } else if (k < 14) {
      const int16_t skip = static_cast<int16_t>(1 + next() % 8);
      if (next() & 1) p.push_back(ins(op::JMP | kJmp[next() % std::size(kJmp)] | op::X, dst, src, skip));
      else p.push_back(ins(op::JMP | kJmp[next() % std::size(kJmp)] | op::K, dst, 0, skip, static_cast<int32_t>(next())));
    } else if (k == 14) {
      p.push_back(ins(cls | ((next() & 1) ? op::DIV : op::MOD) | op::X, dst, src));
    } else {
      const uint64_t v = (static_cast<uint64_t>(next()) << 32) | next();
      p.push_back(ins(op::LD | op::IMM | op::DW, dst, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v))));
      p.push_back(ins(0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v >> 32))));
    }
  }
  // Branches near the end land on these.
  while (p.size() + 1 < n + 8) p.push_back(ins(op::ALU64 | op::MOV | op::K, 0, 0, 0, 0));
  p.push_back(ins(op::JMP | op::EXIT));
  // No branch may land on the second slot of an lddw: move it one further.
  std::vector<bool> second(p.size(), false);
  for (size_t i = 0; i + 1 < p.size(); ++i)
    if (p[i].opcode == (op::LD | op::IMM | op::DW)) second[++i] = true;
  for (size_t i = 0; i < p.size(); ++i)
    if (op::cls(p[i].opcode) == op::JMP && p[i].opcode != (op::JMP | op::EXIT) && second[i + 1 + p[i].off]) ++p[i].off;
  return p;
}

void build(benchmark::State& state, const char* engine, bool proven) {
  const std::vector<Insn> prog = generated(static_cast<size_t>(state.range(0)), 42);
  std::vector<uint32_t> proofs;
  vm::EngineOptions opts;
  if (proven) {
    proofs.assign(prog.size(), vm::proof::kVerified | vm::proof::kMemSafe | vm::proof::kDivisorNonZero);
    opts.proofs = proofs;
  }
  for (auto _ : state) {
    auto e = vm::make_engine(engine, prog, opts);
    if (!e.ok()) {
      state.SkipWithError(e.error().str().c_str());
      return;
    }
    benchmark::DoNotOptimize(e);
  }
  state.counters["insns"] = static_cast<double>(prog.size());
  state.counters["ns_per_insn"] = benchmark::Counter(static_cast<double>(prog.size()) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}

// The clang-compiled programs of tests/progs and examples (v3 and v4), one
// after the other: a realistic instruction mix.  Map references become plain
// constants; the standard and packet helpers are registered.
std::vector<Insn> corpus() {
  std::vector<Insn> all;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(USERBPF_PROGS_DIR, ec)) {
    auto obj = userbpf::loader::load_object(entry.path().string());
    if (!obj) continue;
    for (auto& prog : obj->programs) {
      for (size_t i = 0; i + 1 < prog.insns.size(); ++i)
        if (userbpf::isa::is_lddw(prog.insns[i])) {
          if (prog.insns[i].src != userbpf::isa::pseudo::FUNC) prog.insns[i].src = 0;
          ++i;
        }
      all.insert(all.end(), prog.insns.begin(), prog.insns.end());
    }
  }
  return all;
}

void BM_JitCompileCorpus(benchmark::State& state) {
  static const std::vector<Insn> prog = corpus();
  static const vm::HelperRegistry helpers = [] {
    vm::HelperRegistry h;
    userbpf::helpers::register_standard_helpers(h);
    userbpf::helpers::register_packet_helpers(h);
    return h;
  }();
  std::vector<uint32_t> proofs;
  vm::EngineOptions opts;
  opts.helpers = &helpers;
  if (state.range(0)) {
    proofs.assign(prog.size(), vm::proof::kVerified | vm::proof::kMemSafe);
    opts.proofs = proofs;
  }
  const char* engine = state.range(0) == 2 ? "interp" : "jit";
  state.SetLabel(state.range(0) == 2 ? "interp build" : state.range(0) ? "jit, proven" : "jit, unproven");
  for (auto _ : state) {
    auto e = vm::make_engine(engine, prog, opts);
    if (!e.ok()) {
      state.SkipWithError(e.error().str().c_str());
      return;
    }
    benchmark::DoNotOptimize(e);
  }
  state.counters["insns"] = static_cast<double>(prog.size());
  state.counters["ns_per_insn"] = benchmark::Counter(static_cast<double>(prog.size()) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}
BENCHMARK(BM_JitCompileCorpus)->DenseRange(0, 2);

void BM_JitCompile(benchmark::State& state) { build(state, "jit", false); }
void BM_JitCompileVerified(benchmark::State& state) { build(state, "jit", true); }
void BM_InterpBuild(benchmark::State& state) { build(state, "interp", false); }
BENCHMARK(BM_JitCompile)->Arg(1024)->Arg(4096)->Arg(16384);
BENCHMARK(BM_JitCompileVerified)->Arg(1024)->Arg(4096)->Arg(16384);
BENCHMARK(BM_InterpBuild)->Arg(4096);

}  // namespace
