// Code sections and their functions, and which functions are programs: every
// global function in a code section other than .text, typed by its SEC() name.
#include <algorithm>
#include <cstring>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

constexpr size_t kSlot = sizeof(isa::Insn);

Status collect_functions(Loader& ld) {
  for (const Symbol& sym : ld.symbols) {
    if (sym.type != STT_FUNC) continue;
    auto it = ld.code.find(sym.shndx);
    if (it == ld.code.end())
      return malformed("function " + in_quotes(sym.name) + " is not in a code section (section index " +
                       std::to_string(sym.shndx) + ")");
    CodeSec& sec = it->second;
    const uint64_t limit = sec.insns.size() * kSlot;
    if (sym.value % kSlot != 0 || sym.size % kSlot != 0)
      return malformed("function " + in_quotes(sym.name) + " in " + in_quotes(sec.elf->name) +
                       " is not aligned to 8-byte instructions");
    if (sym.value >= limit || sym.size > limit - sym.value)
      return malformed("function " + in_quotes(sym.name) + " extends past the end of section " + in_quotes(sec.elf->name));
    sec.functions.push_back(Function{sym.name, sym.value / kSlot, sym.size / kSlot,
                                     sym.bind == STB_GLOBAL || sym.bind == STB_WEAK});
  }
  for (auto& [index, sec] : ld.code) {
    auto& fns = sec.functions;
    std::stable_sort(fns.begin(), fns.end(), [](const Function& a, const Function& b) { return a.first < b.first; });
    for (size_t i = 0; i < fns.size(); ++i) {
      if (fns[i].count != 0) continue;
      const size_t end = i + 1 < fns.size() ? fns[i + 1].first : sec.insns.size();
      fns[i].count = end - fns[i].first;
    }
  }
  return ok_status();
}

}  // namespace

const Function* CodeSec::function_at(size_t first) const {
  auto it = std::lower_bound(functions.begin(), functions.end(), first,
                             [](const Function& f, size_t v) { return f.first < v; });
  return it != functions.end() && it->first == first ? &*it : nullptr;
}

Status read_code_sections(Loader& ld) {
  for (const Section& s : ld.elf.sections()) {
    if (s.index == 0 || !s.is_code()) continue;
    if (s.data.size() % kSlot != 0)
      return malformed("code section " + in_quotes(s.name) + " has size " + std::to_string(s.data.size()) +
                       ", not a multiple of 8");
    CodeSec sec;
    sec.elf = &s;
    sec.insns.resize(s.data.size() / kSlot);
    std::memcpy(sec.insns.data(), s.data.data(), s.data.size());
    ld.code.emplace(s.index, std::move(sec));
  }
  return collect_functions(ld);
}

Status find_programs(Loader& ld) {
  for (const auto& [index, sec] : ld.code) {
    if (sec.elf->name == ".text") continue;  // subprograms only, as in libbpf
    for (const Function& fn : sec.functions) {
      // Static functions in a program section are subprograms (libbpf refuses them).
      if (!fn.global) continue;
      auto type = prog_type_for_section(sec.elf->name);
      if (!type) {
        ld.out.warnings.push_back("program " + in_quotes(fn.name) + ": section " + in_quotes(sec.elf->name) +
                                  " is not a known program type; skipped");
        continue;
      }
      ProgramSpec prog;
      prog.name = fn.name;
      prog.section = sec.elf->name;
      prog.prog_type = type->prog_type;
      prog.expected_attach_type = type->expected_attach_type;
      prog.prog_flags = type->prog_flags;
      prog.attach_target = type->attach_target;
      if (Status st = link_program(ld, sec, fn, prog); !st) return st.error();
      ld.out.programs.push_back(std::move(prog));
    }
  }
  return ok_status();
}

}  // namespace userbpf::loader::detail
