// State shared by the object loader's stages (object.cpp drives them in order):
// code sections with relocations applied, where each map lives in the ELF image,
// and the per-section line info and CO-RE records from .BTF.ext.
#pragma once

#include <bpf/btf.h>

#include <map>
#include <set>
#include <utility>

#include "loader/elf_image.h"
#include "userbpf/loader.h"

namespace userbpf::loader::detail {

// A function in a code section, with its length made explicit (clang may leave
// st_size 0: then it runs to the next function or the section end).
struct Function {
  std::string name;
  size_t first = 0, count = 0;  // instruction slots within the section
  bool global = false;
};

// Where a call or callback reference goes: a slot in some code section.
struct Target {
  size_t section = 0;  // ELF section index
  size_t insn = 0;
};

struct CodeSec {
  const Section* elf = nullptr;
  std::vector<isa::Insn> insns;     // map relocations applied
  std::vector<Function> functions;  // sorted by first
  std::map<size_t, Target> targets; // call/lddw-func slot -> callee (from relocations)
  std::vector<std::pair<size_t, SourceLine>> lines;  // by slot, sorted
  std::set<size_t> core_relos;      // slots with CO-RE relocations

  const Function* function_at(size_t first) const;
};

struct Loader {
  Loader(const ElfImage& e, std::vector<Symbol> syms, ObjectSpec& o) : elf(e), symbols(std::move(syms)), out(o) {}
  const ElfImage& elf;
  std::vector<Symbol> symbols;
  ObjectSpec& out;
  struct ::btf* btf = nullptr;  // owned by out.btf
  std::map<size_t, CodeSec> code;  // by ELF section index
  // (section index, offset) -> index in out.maps, for map definitions.
  std::map<std::pair<size_t, uint64_t>, uint32_t> map_at;
  // Global data section index -> index in out.maps.
  std::map<size_t, uint32_t> data_map;
  // BTF-defined maps with a `values` member: map index -> where its slots start in .maps.
  struct SlotsAt {
    uint64_t offset = 0;  // of the map variable in .maps
    uint64_t size = 0;    // of the map variable
    uint64_t values = 0;  // of the values member within it
  };
  std::map<uint32_t, SlotsAt> slotted;
};

// Stages, in the order object.cpp runs them.
Status read_code_sections(Loader& ld);                // sections.cpp
Status read_btf(Loader& ld);                          // btf_info.cpp
Status read_maps(Loader& ld);                         // maps_btf.cpp, using the two below
// Map-in-map templates are appended after every other map: (outer index, template).
Status read_btf_maps(Loader& ld, std::vector<std::pair<uint32_t, MapDef>>& inner_templates);  // maps_btf.cpp
Status read_legacy_maps(Loader& ld);                  // maps_data.cpp
Status read_global_data(Loader& ld);                  // maps_data.cpp
Status apply_code_relocations(Loader& ld);            // relocations.cpp
Status apply_map_slot_relocations(Loader& ld);        // relocations.cpp (after programs exist)
Status read_btf_ext(Loader& ld);                      // btf_info.cpp
Status find_programs(Loader& ld);                     // sections.cpp
Status link_program(const Loader& ld, const CodeSec& sec, const Function& entry, ProgramSpec& prog);  // link.cpp

}  // namespace userbpf::loader::detail
