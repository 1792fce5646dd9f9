// userbpf prog show / prog dump: what bpftool shows for loaded programs, read
// straight from the object file.
#include <bpf/libbpf.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"

namespace userbpf::cli {
namespace {

const char* prog_type_str(uint32_t t) {
  const char* s = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(t));
  return s ? s : "unknown";
}

int show(const std::string& path) {
  auto obj = loader::load_object(path);
  if (!obj) return report(obj.error());
  for (size_t i = 0; i < obj->programs.size(); ++i) {
    const auto& p = obj->programs[i];
    std::printf("%zu: %s  name %s  section %s  insns %zu  %s\n", i, prog_type_str(p.prog_type), p.name.c_str(),
                p.section.c_str(), p.insns.size(), obj->license.empty() ? "" : obj->license.c_str());
    if (p.functions.size() > 1) {
      std::printf("\tsubprograms:");
      for (size_t f = 1; f < p.functions.size(); ++f) std::printf(" %s", p.functions[f].name.c_str());
      std::printf("\n");
    }
    if (!p.map_refs.empty()) {
      std::printf("\tmaps:");
      for (uint32_t m : p.map_refs) std::printf(" %s", obj->maps[m].spec.name.c_str());
      std::printf("\n");
    }
  }
  for (size_t i = 0; i < obj->maps.size(); ++i) {
    const auto& m = obj->maps[i].spec;
    std::printf("map %zu: %s  name %s  key %uB  value %uB  max_entries %u  flags 0x%x%s\n", i,
                maps::map_type_name(m.type), m.name.c_str(), m.key_size, m.value_size, m.max_entries, m.map_flags,
                obj->maps[i].is_inner_template ? "  (inner map template)" : "");
  }
  for (const auto& w : obj->warnings) std::fprintf(stderr, "userbpf: warning: %s\n", w.c_str());
  return kExitOk;
}

int dump(const std::string& path, const std::string& prog_name) {
  auto obj = loader::load_object(path);
  if (!obj) return report(obj.error());
  bool found = false;
  for (const auto& p : obj->programs) {
    if (!prog_name.empty() && p.name != prog_name) continue;
    found = true;
    std::printf("%s (%s, section %s):\n", p.name.c_str(), prog_type_str(p.prog_type), p.section.c_str());
    std::string last_line;
    for (size_t pc = 0; pc < p.insns.size(); ++pc) {
      for (const auto& fn : p.functions)
        if (fn.first_insn == pc && pc != 0) std::printf("%s:\n", fn.name.c_str());
      if (auto line = p.line_for(pc)) {
        const std::string s = line->str();
        if (s != last_line) std::printf("; %s\n", s.c_str());
        last_line = s;
      }
      const isa::Insn* next = pc + 1 < p.insns.size() ? &p.insns[pc + 1] : nullptr;
      std::printf("%5zu:\t%s\n", pc, isa::disassemble(p.insns[pc], next).c_str());
      if (isa::is_lddw(p.insns[pc]) && next) ++pc;
    }
    std::printf("\n");
  }
  if (!found)
    return report(make_error(ErrorKind::InvalidArgument, "no program named '" + prog_name + "' in " + path));
  return kExitOk;
}

}  // namespace

void add_prog_commands(CLI::App& app, Action& action) {
  auto* prog = app.add_subcommand("prog", "Inspect the programs of a BPF object (like bpftool prog)");
  prog->require_subcommand(1);
  static std::string show_path, dump_path, dump_prog;
  auto* s = prog->add_subcommand("show", "List programs and maps of an object");
  s->add_option("OBJ", show_path, "BPF ELF object")->required();
  s->callback([&action] { action = [] { return show(show_path); }; });
  auto* d = prog->add_subcommand("dump", "Disassemble programs with their source lines");
  d->add_option("OBJ", dump_path, "BPF ELF object")->required();
  d->add_option("--prog", dump_prog, "only this program");
  d->callback([&action] { action = [] { return dump(dump_path, dump_prog); }; });
}

}  // namespace userbpf::cli
