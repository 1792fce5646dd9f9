// libFuzzer target: arbitrary bytes through the object loader (ELF, symbols,
// relocations, BTF maps, .BTF.ext, linking) and the raw ELF reader.  Any crash,
// sanitizer report or hang is a bug; seed it with the build's progs/*.bpf.o.
#include <bpf/libbpf.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "userbpf/loader.h"

namespace {
int quiet(enum libbpf_print_level, const char*, va_list) { return 0; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace userbpf;
  static const bool silenced = [] {
    libbpf_set_print(quiet);  // libbpf's BTF parser logs every malformed type
    return true;
  }();
  (void)silenced;
  const std::span<const uint8_t> bytes(data, size);
  (void)loader::read_elf(bytes);
  auto obj = loader::load_object(bytes, "fuzz");
  if (!obj) return 0;
  // Touch what a runtime would: every instruction, line and map.
  for (const auto& p : obj->programs) {
    (void)isa::validate(p.insns);
    for (size_t pc = 0; pc < p.insns.size(); ++pc) (void)p.line_for(pc);
  }
  size_t total = 0;
  for (const auto& m : obj->maps) total += m.initial_data.size() + m.initial_slots.size();
  return total == SIZE_MAX ? 1 : 0;
}
