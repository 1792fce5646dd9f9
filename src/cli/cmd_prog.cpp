// userbpf prog show / prog dump: what bpftool shows for loaded programs, read
// straight from the object file.
#include <bpf/libbpf.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "userbpf/isa.h"
#include "userbpf/jit.h"
#include "userbpf/loader.h"
#include "userbpf/runtime.h"

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

// --jited: the object made live with the JIT (verified unless --no-verify, as
// `run` would), each final instruction followed by its machine code.
int dump_jited(loader::ObjectSpec spec, const std::string& path, const std::string& prog_name, bool verify) {
  runtime::ObjectOptions oo;
  oo.engine = "jit";
  oo.verify = verify;
  if (!prog_name.empty()) oo.programs = {prog_name};
  auto obj = runtime::Object::load(std::move(spec), oo);
  if (!obj) return report(obj.error());
  if ((*obj)->programs().empty())
    return report(make_error(ErrorKind::InvalidArgument, "no program named '" + prog_name + "' in " + path));
  for (const auto& prog : (*obj)->programs()) {
    const auto* jit = dynamic_cast<const jit::JitEngine*>(&prog->engine());
    if (!jit) return report(make_error(ErrorKind::Unsupported, "the JIT engine is not available"));
    const loader::ProgramSpec& ps = prog->spec();
    const auto& insns = prog->insns();
    const auto code = jit->code();
    const auto offsets = jit->insn_offsets();
    std::printf("%s (%s, section %s): %zu bytes of x86-64, %s\n", ps.name.c_str(), prog_type_str(ps.prog_type),
                ps.section.c_str(), code.size(),
                jit->verified() ? "verified (proven accesses unchecked)" : "not verified (every access checked)");
    std::printf("; 0x0-0x%x: entry trampoline, memory checks and fault exits\n", offsets.empty() ? 0u : offsets[0]);
    // Source lines and function names are by instruction index: only when the
    // context rewrite kept every instruction in place.
    const bool same_layout = insns.size() == ps.insns.size();
    std::string last_line;
    for (size_t pc = 0; pc < insns.size(); ++pc) {
      if (same_layout) {
        for (const auto& fn : ps.functions)
          if (fn.first_insn == pc && pc != 0) std::printf("%s:\n", fn.name.c_str());
        if (auto line = ps.line_for(pc)) {
          const std::string s = line->str();
          if (s != last_line) std::printf("; %s\n", s.c_str());
          last_line = s;
        }
      }
      const isa::Insn* next = pc + 1 < insns.size() ? &insns[pc + 1] : nullptr;
      std::printf("%5zu:\t%s\n", pc, isa::disassemble(insns[pc], next).c_str());
      const size_t end_pc = pc + (isa::is_lddw(insns[pc]) && next ? 2 : 1);
      const uint32_t from = offsets[pc], to = offsets[end_pc];
      for (const auto& n : jit::disassemble_native(code.subspan(from, to - from), from))
        std::printf("\t%6x:\t%s\n", from + n.offset, n.text.c_str());
      pc = end_pc - 1;
    }
    std::printf("; past the last instruction\n");
    const uint32_t end = offsets[insns.size()];
    for (const auto& n : jit::disassemble_native(code.subspan(end), end))
      std::printf("\t%6x:\t%s\n", end + n.offset, n.text.c_str());
    std::printf("\n");
  }
  return kExitOk;
}

int dump(const std::string& path, const std::string& prog_name, bool jited, bool verify) {
  auto obj = loader::load_object(path);
  if (!obj) return report(obj.error());
  if (jited) return dump_jited(std::move(*obj), path, prog_name, verify);
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
  static bool dump_jited = false, dump_no_verify = false;
  auto* s = prog->add_subcommand("show", "List programs and maps of an object");
  s->add_option("OBJ", show_path, "BPF ELF object")->required();
  s->callback([&action] { action = [] { return show(show_path); }; });
  auto* d = prog->add_subcommand("dump", "Disassemble programs with their source lines");
  d->add_option("OBJ", dump_path, "BPF ELF object")->required();
  d->add_option("--prog", dump_prog, "only this program");
  d->add_flag("--jited", dump_jited, "also the x86-64 code the JIT generates for each instruction");
  d->add_flag("--no-verify", dump_no_verify, "with --jited: compile without the verifier (every access checked)");
  d->callback([&action] { action = [] { return dump(dump_path, dump_prog, dump_jited, !dump_no_verify); }; });
}

}  // namespace userbpf::cli
