// bpf_conformance plugin: program bytes as base16 on stdin, input memory as base16
// in the positional argument(s); prints r0 in hex and exits 0, or prints an error
// and exits non-zero.  Options in any order: --engine jit|interp (default jit), --elf, --cpu N.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/common.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"
#include "userbpf/vm.h"

using namespace userbpf;

namespace {

// Helper 5 of the conformance suite ("unwind"): returns r1; a zero result ends the
// program at once with r0 = 0 (call_unwind_fail.data, callx.data use it).
uint64_t unwind_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, vm::ExecContext* ctx) {
  if (r1 == 0) {
    ctx->stop = true;
    ctx->stop_value = 0;
  }
  return r1;
}

int usage() {
  std::fprintf(stderr,
               "usage: userbpf-plugin [--engine jit|interp] [--elf] [--cpu N] [MEMORY_HEX]\n"
               "  reads the program as base16 bytes (or an ELF object with --elf) on stdin\n");
  return cli::kExitBadInput;
}

Result<std::vector<isa::Insn>> program_from_stdin(bool elf) {
  auto raw = cli::read_stream(stdin);
  if (!raw) return raw.error();
  if (elf) {
    // The first program of the object, with its subprograms linked in.  The plugin
    // has no maps, so a program that refers to one is refused by the engine.
    auto obj = loader::load_object(std::span<const uint8_t>(*raw), "plugin");
    if (!obj) return obj.error();
    if (obj->programs.empty()) return make_error(ErrorKind::Malformed, "ELF object has no program");
    return std::move(obj->programs.front().insns);
  }
  std::string text(raw->begin(), raw->end());
  auto bytes = cli::parse_hex(text);
  if (!bytes) return bytes.error();
  return isa::from_bytes(*bytes);
}

}  // namespace

int main(int argc, char** argv) {
  // Conformance programs are not verified: the JIT runs them with every access
  // checked, as the interpreter does.
  std::string engine = "jit";
  bool elf = false;
  int cpu = 4;
  std::string memory_hex;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--engine" && i + 1 < argc) {
      engine = argv[++i];
    } else if (a.rfind("--engine=", 0) == 0) {
      engine = a.substr(9);
    } else if (a == "--elf") {
      elf = true;
    } else if (a == "--cpu" && i + 1 < argc) {
      cpu = std::atoi(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      usage();
      return cli::kExitOk;
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "userbpf-plugin: unknown option %s\n", a.c_str());
      return usage();
    } else {
      memory_hex += a + " ";
    }
  }
  if (engine != "interp" && engine != "jit") {
    std::fprintf(stderr, "userbpf-plugin: unknown engine '%s' (interp or jit)\n", engine.c_str());
    return cli::kExitBadInput;
  }

  auto prog = program_from_stdin(elf);
  if (!prog) return cli::report(prog.error(), "userbpf-plugin");
  auto memory = cli::parse_hex(memory_hex);
  if (!memory) return cli::report(memory.error(), "userbpf-plugin");

  vm::HelperRegistry helpers;
  helpers.add(5, "unwind", unwind_helper);
  vm::EngineOptions opts;
  opts.helpers = &helpers;
  opts.max_cpu = cpu;
  auto built = vm::make_engine(engine, *prog, opts);
  if (!built) return cli::report(built.error(), "userbpf-plugin");

  vm::ExecContext ctx;
  ctx.helpers = &helpers;
  ctx.args[0] = memory->empty() ? 0 : reinterpret_cast<uintptr_t>(memory->data());
  ctx.args[1] = memory->size();
  if (!memory->empty())
    ctx.regions.push_back(vm::Region{reinterpret_cast<uintptr_t>(memory->data()), memory->size(), true, "input"});
  auto r0 = (*built)->run(ctx);
  if (!r0) return cli::report(r0.error(), "userbpf-plugin");
  std::printf("%" PRIx64 "\n", *r0);
  return cli::kExitOk;
}
