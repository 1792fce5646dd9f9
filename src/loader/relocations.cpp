// Relocations: in code sections (.rel<section>), lddw of a map becomes
// pseudo::MAP_FD with the map index, lddw of a global variable pseudo::MAP_VALUE
// with the map index and the variable's offset, lddw of a function pseudo::FUNC;
// calls and function references record their target for the linker.  In .maps,
// relocations are the static initialisation of map-in-map / prog_array slots.
#include <linux/bpf.h>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

constexpr size_t kSlot = sizeof(isa::Insn);
constexpr uint8_t kCall = isa::op::JMP | isa::op::CALL;

std::string where(const CodeSec& sec, size_t slot) {
  return "in section " + in_quotes(sec.elf->name) + " at insn " + std::to_string(slot);
}

Status relocate_insn(Loader& ld, CodeSec& sec, const Reloc& rel) {
  if (rel.offset % kSlot != 0 || rel.offset / kSlot >= sec.insns.size())
    return malformed("relocation at offset " + std::to_string(rel.offset) + " is outside section " + in_quotes(sec.elf->name));
  const size_t slot = rel.offset / kSlot;
  isa::Insn& insn = sec.insns[slot];
  const Symbol& sym = ld.symbols[rel.sym];
  const std::string sym_name = in_quotes(sym.name);
  if (sym.shndx == SHN_UNDEF)
    return unsupported("extern symbol " + sym_name + " (kfunc/ksym/kconfig) referenced " + where(sec, slot));
  if (sym.shndx >= SHN_LORESERVE)
    return unsupported("relocation against special symbol " + sym_name + " " + where(sec, slot));

  if (insn.opcode == kCall) {
    if (insn.src != isa::pseudo::CALL_LOCAL)
      return malformed("relocation against " + sym_name + " on a call that is not a bpf-to-bpf call " + where(sec, slot));
    auto callee = ld.code.find(sym.shndx);
    if (callee == ld.code.end()) return malformed("call to " + sym_name + ", which is not code, " + where(sec, slot));
    // clang encodes the callee as symbol + (imm + 1) instruction slots.
    const int64_t target = static_cast<int64_t>(sym.value / kSlot) + insn.imm + 1;
    if (sym.value % kSlot != 0 || target < 0 || static_cast<size_t>(target) >= callee->second.insns.size())
      return malformed("call to " + sym_name + " lands outside its section " + where(sec, slot));
    sec.targets[slot] = Target{sym.shndx, static_cast<size_t>(target)};
    return ok_status();
  }
  if (!isa::is_lddw(insn) || slot + 1 >= sec.insns.size())
    return malformed("relocation against " + sym_name + " on an instruction that is neither lddw nor call " + where(sec, slot));
  isa::Insn& hi = sec.insns[slot + 1];
  const uint64_t addend = static_cast<uint32_t>(insn.imm);

  if (auto callee = ld.code.find(sym.shndx); callee != ld.code.end()) {
    // A function pointer (callback for bpf_loop, for_each_map_elem, ...): imm is a byte offset.
    const uint64_t off = sym.value + addend;
    if (off % kSlot != 0 || off / kSlot >= callee->second.insns.size())
      return malformed("function reference to " + sym_name + " lands outside its section " + where(sec, slot));
    insn.src = isa::pseudo::FUNC;
    sec.targets[slot] = Target{sym.shndx, off / kSlot};
    return ok_status();
  }
  if (auto data = ld.data_map.find(sym.shndx); data != ld.data_map.end()) {
    const uint64_t off = sym.value + addend;
    if (off > ld.out.maps[data->second].spec.value_size)
      return malformed("reference to " + sym_name + " + " + std::to_string(addend) + " lies outside its section " + where(sec, slot));
    insn.src = isa::pseudo::MAP_VALUE;
    insn.imm = static_cast<int32_t>(data->second);
    hi.imm = static_cast<int32_t>(off);
    return ok_status();
  }
  if (auto map = ld.map_at.find({sym.shndx, sym.value + addend}); map != ld.map_at.end()) {
    insn.src = isa::pseudo::MAP_FD;
    insn.imm = static_cast<int32_t>(map->second);
    hi.imm = 0;
    return ok_status();
  }
  const Section* target = ld.elf.at(sym.shndx);
  return unsupported("reference to " + sym_name + " in section " + in_quotes(target ? target->name : "?") +
                     ", which is neither a map, global data nor code, " + where(sec, slot));
}

}  // namespace

Status apply_code_relocations(Loader& ld) {
  for (const Section& rel : ld.elf.sections()) {
    if (rel.shdr.sh_type != SHT_REL) continue;
    auto sec = ld.code.find(rel.shdr.sh_info);
    if (sec == ld.code.end()) continue;  // .BTF, .BTF.ext, debug info, .maps (later)
    auto relocs = ld.elf.relocations(rel, ld.symbols.size());
    if (!relocs) return relocs.error();
    for (const Reloc& r : *relocs)
      if (Status st = relocate_insn(ld, sec->second, r); !st) return st;
  }
  return ok_status();
}

Status apply_map_slot_relocations(Loader& ld) {
  const Section* maps_sec = ld.elf.find(".maps");
  if (!maps_sec) return ok_status();
  for (const Section& rel : ld.elf.sections()) {
    if (rel.shdr.sh_type != SHT_REL || rel.shdr.sh_info != maps_sec->index) continue;
    auto relocs = ld.elf.relocations(rel, ld.symbols.size());
    if (!relocs) return relocs.error();
    for (const Reloc& r : *relocs) {
      const Symbol& sym = ld.symbols[r.sym];
      // The map whose `values` array holds this slot.
      auto owner = ld.slotted.end();
      for (auto it = ld.slotted.begin(); it != ld.slotted.end(); ++it)
        if (r.offset >= it->second.offset + it->second.values && r.offset < it->second.offset + it->second.size) owner = it;
      if (owner == ld.slotted.end())
        return malformed("relocation against " + in_quotes(sym.name) + " in '.maps' at offset " + std::to_string(r.offset) +
                         " is not inside a map's values");
      MapDef& map = ld.out.maps[owner->first];
      const uint64_t rel_off = r.offset - owner->second.offset - owner->second.values;
      if (rel_off % 8 != 0 || rel_off / 8 >= map.spec.max_entries)
        return malformed("map " + in_quotes(map.spec.name) + ": initial value for " + in_quotes(sym.name) +
                         " is not a slot below max_entries");
      SlotInit init;
      init.slot = static_cast<uint32_t>(rel_off / 8);
      init.target = sym.name;
      if (auto m = ld.map_at.find({sym.shndx, sym.value}); m != ld.map_at.end() && sym.shndx == maps_sec->index) {
        if (map.spec.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && map.spec.type != BPF_MAP_TYPE_HASH_OF_MAPS)
          return malformed("map " + in_quotes(map.spec.name) + " is initialised with map " + in_quotes(sym.name) + " but is not map-in-map");
        init.map_index = static_cast<int32_t>(m->second);
      } else {
        for (size_t i = 0; i < ld.out.programs.size(); ++i)
          if (ld.out.programs[i].name == sym.name) init.program_index = static_cast<int32_t>(i);
        if (init.program_index < 0 || map.spec.type != BPF_MAP_TYPE_PROG_ARRAY)
          return unsupported("map " + in_quotes(map.spec.name) + ": initial value " + in_quotes(sym.name) +
                             " is neither a map (map-in-map) nor a program (prog_array)");
      }
      map.initial_slots.push_back(std::move(init));
    }
  }
  return ok_status();
}

}  // namespace userbpf::loader::detail
