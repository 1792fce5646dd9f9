// userbpf disasm / asm.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "userbpf/isa.h"
#include "userbpf/loader.h"

namespace userbpf::cli {
namespace {

int disasm_elf(const std::vector<uint8_t>& bytes) {
  auto obj = loader::read_elf(std::span<const uint8_t>(bytes));
  if (!obj) return report(obj.error());
  for (const auto& sec : obj->sections) {
    std::printf("\nDisassembly of section %s:\n", sec.name.c_str());
    for (size_t pc = 0; pc < sec.insns.size(); ++pc) {
      for (const auto& fn : sec.functions)
        if (fn.offset / sizeof(isa::Insn) == pc) std::printf("\n<%s>:\n", fn.name.c_str());
      const isa::Insn* next = pc + 1 < sec.insns.size() ? &sec.insns[pc + 1] : nullptr;
      std::printf("%zu:\t%s\n", pc, isa::disassemble(sec.insns[pc], next).c_str());
      if (isa::is_lddw(sec.insns[pc]) && next) ++pc;
    }
  }
  return kExitOk;
}

int disasm(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) return report(bytes.error());
  if (is_elf(*bytes)) return disasm_elf(*bytes);
  auto insns = isa::from_bytes(*bytes);
  if (!insns) return report(insns.error());
  std::fputs(isa::disassemble_program(*insns).c_str(), stdout);
  return kExitOk;
}

int assemble_file(const std::string& in, const std::string& out) {
  auto text = read_file(in);
  if (!text) return report(text.error());
  auto insns = isa::assemble(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
  if (!insns) {
    insns.error().message = in + ": " + insns.error().message;
    return report(insns.error());
  }
  if (auto st = isa::validate(*insns); !st) return report(st.error());
  if (auto st = write_file(out, isa::to_bytes(*insns)); !st) return report(st.error());
  return kExitOk;
}

}  // namespace

void add_isa_commands(CLI::App& app, Action& action) {
  auto* d = app.add_subcommand("disasm", "Disassemble raw bytecode or every code section of an ELF object");
  static std::string disasm_path;
  d->add_option("FILE", disasm_path, "raw bytecode (.bin) or BPF ELF object (.o)")->required();
  d->callback([&action] { action = [] { return disasm(disasm_path); }; });

  auto* a = app.add_subcommand("asm", "Assemble text (llvm-objdump or uBPF syntax) into raw bytecode");
  static std::string asm_in, asm_out;
  a->add_option("IN", asm_in, "assembly source")->required();
  a->add_option("-o,--output", asm_out, "output bytecode file")->required();
  a->callback([&action] { action = [] { return assemble_file(asm_in, asm_out); }; });
}

}  // namespace userbpf::cli
