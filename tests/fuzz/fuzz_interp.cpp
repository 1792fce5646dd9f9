// libFuzzer target: arbitrary bytes through decode, validate, disassemble and the
// checked interpreter.  Any crash, sanitizer report or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "userbpf/isa.h"
#include "userbpf/vm.h"

namespace {
uint64_t echo_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, userbpf::vm::ExecContext*) { return r1; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace userbpf;
  auto insns = isa::from_bytes(std::span<const uint8_t>(data, size));
  if (!insns) return 0;
  (void)isa::disassemble_program(*insns);
  static vm::HelperRegistry helpers = [] {
    vm::HelperRegistry h;
    h.add(1, "echo", echo_helper);
    return h;
  }();
  vm::EngineOptions opts;
  opts.helpers = &helpers;
  auto engine = vm::make_interpreter(*insns, opts);
  if (!engine) return 0;
  uint8_t input[64] = {};
  vm::ExecContext ctx;
  ctx.helpers = &helpers;
  ctx.insn_budget = 10000;
  ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(input), sizeof input, true, "input"});
  ctx.args[0] = reinterpret_cast<uintptr_t>(input);
  ctx.args[1] = sizeof input;
  ctx.legacy_packet = std::span<const uint8_t>(input, sizeof input);
  (void)(*engine)->run(ctx);
  return 0;
}
