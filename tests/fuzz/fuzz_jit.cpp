// libFuzzer target: the JIT against the checked interpreter.  The input is
// either raw bytecode (first byte even) or, after a first odd byte, the seed of
// a random verifier-acceptable program (tests/support/random_prog.h), which
// also runs with kVerified proofs.  Both engines see the same memory at the
// same addresses; r0, the error (kind, instruction, message with addresses
// masked), the memory afterwards and the instruction count must agree.  Any
// divergence aborts with both outcomes printed.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "support/random_prog.h"
#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace {

using namespace userbpf;

uint64_t echo_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext*) { return r1; }
uint64_t unwind_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  if (r1 == 0) {
    ctx->stop = true;
    ctx->stop_value = 0;
  }
  return r1;
}
uint64_t probe_helper(uint64_t p, uint64_t len, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return ctx->accessible(p, len & 0xffff, true) ? 1 : 0;
}
uint64_t count_helper(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  return ctx->insns_executed;
}
// bpf_loop-like: up to 4 calls of the function at r1 with (i, r3).
uint64_t loop_helper(uint64_t fn, uint64_t n, uint64_t arg, uint64_t, uint64_t, vm::ExecContext* ctx) {
  const auto* engine = static_cast<const vm::Engine*>(ctx->user);
  for (uint64_t i = 0; i < (n & 3); ++i) {
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
    vm::HelperRegistry h;
    h.add(1, "echo", echo_helper);
    h.add(2, "unwind", unwind_helper);
    h.add(3, "probe", probe_helper);
    h.add(4, "count", count_helper);
    h.add(5, "loop", loop_helper);
    return h;
  }();
  return reg;
}

struct Outcome {
  bool built = false;
  std::string build_error;
  bool ok = false;
  uint64_t r0 = 0;
  Error error;
  uint64_t insns = 0;
  std::vector<uint8_t> input, rodata;
};

// Stack addresses differ between the engines: mask every hex number.
std::string masked(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "0x") == 0) {
      out += "0x?";
      i += 2;
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
    } else {
      out += s[i++];
    }
  }
  return out;
}

alignas(64) uint8_t g_input[64];
alignas(64) uint8_t g_rodata[16];

Outcome run(const char* engine, std::span<const isa::Insn> prog, std::span<const uint32_t> proofs) {
  Outcome o;
  vm::EngineOptions opts;
  opts.helpers = &registry();
  opts.proofs = proofs;
  auto e = vm::make_engine(engine, prog, opts);
  if (!e) {
    o.build_error = e.error().str();
    return o;
  }
  o.built = true;
  for (size_t i = 0; i < sizeof g_input; ++i) g_input[i] = static_cast<uint8_t>(i * 13 + 5);
  for (size_t i = 0; i < sizeof g_rodata; ++i) g_rodata[i] = static_cast<uint8_t>(0xf0 - i);
  vm::ExecContext ctx;
  ctx.helpers = &registry();
  ctx.insn_budget = 20000;
  ctx.user = e->get();
  ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(g_input), sizeof g_input, true, "input"});
  ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(g_rodata), sizeof g_rodata, false, "rodata"});
  ctx.args[0] = reinterpret_cast<uintptr_t>(g_input);
  ctx.args[1] = sizeof g_input;
  ctx.args[2] = reinterpret_cast<uintptr_t>(g_rodata);
  ctx.legacy_packet = std::span<const uint8_t>(g_input, sizeof g_input);
  auto r = (*e)->run(ctx);
  o.ok = r.ok();
  if (r.ok()) o.r0 = *r;
  else o.error = r.error();
  o.insns = ctx.insns_executed;
  o.input.assign(g_input, g_input + sizeof g_input);
  o.rodata.assign(g_rodata, g_rodata + sizeof g_rodata);
  return o;
}

[[noreturn]] void diverged(const char* what, std::span<const isa::Insn> prog, const Outcome& a, const Outcome& b) {
  auto show = [](const Outcome& o) {
    if (!o.built) return "build error: " + o.build_error;
    if (!o.ok) return "error: " + o.error.str();
    char buf[64];
    std::snprintf(buf, sizeof buf, "r0 = 0x%llx", static_cast<unsigned long long>(o.r0));
    return std::string(buf) + ", insns " + std::to_string(o.insns);
  };
  std::fprintf(stderr, "JIT and interpreter diverge (%s)\ninterp: %s\njit:    %s\n%s", what, show(a).c_str(),
               show(b).c_str(), isa::disassemble_program(prog).c_str());
  std::abort();
}

void compare(std::span<const isa::Insn> prog, std::span<const uint32_t> proofs) {
  const Outcome a = run("interp", prog, {});
  const Outcome b = run("jit", prog, proofs);
  if (a.built != b.built) diverged("build", prog, a, b);
  if (!a.built) {
    if (a.build_error != b.build_error) diverged("build error", prog, a, b);
    return;
  }
  if (a.ok != b.ok) diverged("outcome", prog, a, b);
  if (a.ok && a.r0 != b.r0) diverged("r0", prog, a, b);
  if (!a.ok && (a.error.kind != b.error.kind || a.error.insn != b.error.insn ||
                masked(a.error.message) != masked(b.error.message)))
    diverged("error", prog, a, b);
  const bool budget = !a.ok && a.error.message.find("instruction budget") != std::string::npos;
  if (proofs.empty() && (a.ok || budget) && a.insns != b.insns) diverged("instruction count", prog, a, b);
  if (a.input != b.input || a.rodata != b.rodata) diverged("memory", prog, a, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    // A generated program: verifier-acceptable, so also valid with kVerified.
    uint64_t seed = 0;
    std::memcpy(&seed, data + 1, std::min<size_t>(size - 1, sizeof seed));
    testing::RandomProgOptions o;
    o.min_body = 10 + data[0] % 40;
    o.max_body = o.min_body + 20;
    o.mix_state = (data[0] & 2) != 0;
    const auto prog = testing::random_program(seed, o);
    compare(prog, {});
    const std::vector<uint32_t> proofs(prog.size(), vm::proof::kVerified);
    compare(prog, proofs);
    return 0;
  }
  auto insns = isa::from_bytes(std::span<const uint8_t>(data + 1, (size - 1) / 8 * 8));
  if (!insns || insns->empty()) return 0;
  compare(*insns, {});
  return 0;
}
