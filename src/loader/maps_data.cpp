// Legacy map definitions (SEC("maps"), struct bpf_map_def per symbol) and global
// data: .data, .rodata, .bss and their ".name" variants become one-element ARRAY
// maps holding the section image, named the way libbpf names them.
#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

constexpr size_t kObjNameLen = 16;  // BPF_OBJ_NAME_LEN, terminating NUL included
// .bss takes no file space, so its size alone must be bounded before allocating.
constexpr uint64_t kMaxDataSection = uint64_t{64} << 20;

bool has_prefix_section(std::string_view name, std::string_view base) {
  return name == base || (name.size() > base.size() && name.starts_with(base) && name[base.size()] == '.');
}

// libbpf's scheme: "<object name, cut>" + ".data" for the plain sections; a
// section with a second dot (".rodata.str1.1") keeps its own name alone.  The
// result fits the kernel's 15 characters and uses only [A-Za-z0-9_.].
std::string data_map_name(std::string_view object, std::string_view section) {
  const size_t sfx_len = std::max<size_t>(7, section.size());
  const bool own_name = section.size() > 1 && section.find('.', 1) != std::string_view::npos;
  const size_t pfx_len = own_name ? 0 : std::min(kObjNameLen - 1 - std::min(sfx_len, kObjNameLen - 1), object.size());
  std::string name = std::string(object.substr(0, pfx_len)) + std::string(section);
  if (name.size() > kObjNameLen - 1) name.resize(kObjNameLen - 1);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return name;
}

}  // namespace

Status read_legacy_maps(Loader& ld) {
  const Section* sec = ld.elf.find("maps");
  if (!sec || sec->shdr.sh_type != SHT_PROGBITS) return ok_status();
  std::vector<const Symbol*> defs;
  for (const Symbol& sym : ld.symbols)
    if (sym.shndx == sec->index && sym.type != STT_SECTION && sym.type != STT_FILE) defs.push_back(&sym);
  std::stable_sort(defs.begin(), defs.end(), [](const Symbol* a, const Symbol* b) { return a->value < b->value; });
  constexpr size_t kDefSize = 5 * sizeof(uint32_t);  // type, key_size, value_size, max_entries, map_flags
  for (const Symbol* sym : defs) {
    if (sym->size < kDefSize || sym->value > sec->data.size() || sym->size > sec->data.size() - sym->value)
      return malformed("legacy map " + in_quotes(sym->name) + " in section 'maps' is truncated or out of bounds");
    const uint8_t* p = sec->data.data() + sym->value;
    if (std::any_of(p + kDefSize, p + sym->size, [](uint8_t b) { return b != 0; }))
      return unsupported("legacy map " + in_quotes(sym->name) + " uses fields beyond struct bpf_map_def");
    uint32_t f[5];
    std::memcpy(f, p, sizeof f);
    MapDef md;
    md.spec.name = sym->name;
    md.spec.type = f[0];
    md.spec.key_size = f[1];
    md.spec.value_size = f[2];
    md.spec.max_entries = f[3];
    md.spec.map_flags = f[4];
    md.section = "maps";
    const auto index = static_cast<uint32_t>(ld.out.maps.size());
    if (!ld.map_at.emplace(std::pair{sec->index, sym->value}, index).second)
      return malformed("legacy map " + in_quotes(sym->name) + " shares its offset with another map");
    ld.out.maps.push_back(std::move(md));
  }
  return ok_status();
}

Status read_global_data(Loader& ld) {
  for (const Section& sec : ld.elf.sections()) {
    const bool rodata = has_prefix_section(sec.name, ".rodata");
    const bool data = has_prefix_section(sec.name, ".data");
    const bool bss = has_prefix_section(sec.name, ".bss");
    if (!(rodata || data || bss) || sec.shdr.sh_size == 0 || (sec.shdr.sh_flags & SHF_EXECINSTR)) continue;
    if (sec.shdr.sh_type != (bss ? SHT_NOBITS : SHT_PROGBITS)) continue;
    if (sec.shdr.sh_size > kMaxDataSection) return unsupported("global data section " + in_quotes(sec.name) + " is too large");
    MapDef md;
    md.spec.name = data_map_name(ld.out.name, sec.name);
    md.spec.type = static_cast<uint32_t>(maps::MapType::Array);
    md.spec.key_size = 4;
    md.spec.value_size = static_cast<uint32_t>(sec.shdr.sh_size);
    md.spec.max_entries = 1;
    // As libbpf sets them: programs may not write .rodata; user space mmaps them all.
    md.spec.map_flags = BPF_F_MMAPABLE | (rodata ? BPF_F_RDONLY_PROG : 0);
    if (ld.btf) {
      const int32_t id = btf__find_by_name_kind(ld.btf, sec.name.c_str(), BTF_KIND_DATASEC);
      if (id > 0) md.spec.btf_value_type_id = static_cast<uint32_t>(id);
    }
    md.section = sec.name;
    md.is_global_data = true;
    if (bss) md.initial_data.assign(sec.shdr.sh_size, 0);
    else md.initial_data.assign(sec.data.begin(), sec.data.end());
    ld.data_map[sec.index] = static_cast<uint32_t>(ld.out.maps.size());
    ld.out.maps.push_back(std::move(md));
  }
  return ok_status();
}

}  // namespace userbpf::loader::detail
