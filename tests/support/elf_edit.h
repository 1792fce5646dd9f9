// A test's own view of a BPF ELF object's headers, to aim corruptions precisely
// at one field (section sizes, symbol values, relocation entries).
#pragma once

#include <elf.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace userbpf::test {

using Bytes = std::vector<uint8_t>;

template <typename T>
T* elf_at(Bytes& b, uint64_t off) {
  if (off + sizeof(T) > b.size()) throw std::runtime_error("test object too small");
  return reinterpret_cast<T*>(b.data() + off);
}

// The section header named `name`; `name_off` receives the file offset of its name.
inline Elf64_Shdr* elf_section(Bytes& b, const std::string& name, uint64_t* name_off = nullptr) {
  auto* eh = elf_at<Elf64_Ehdr>(b, 0);
  auto* strtab = elf_at<Elf64_Shdr>(b, eh->e_shoff + eh->e_shstrndx * sizeof(Elf64_Shdr));
  for (unsigned i = 0; i < eh->e_shnum; ++i) {
    auto* sh = elf_at<Elf64_Shdr>(b, eh->e_shoff + i * sizeof(Elf64_Shdr));
    if (name == reinterpret_cast<const char*>(b.data() + strtab->sh_offset + sh->sh_name)) {
      if (name_off) *name_off = strtab->sh_offset + sh->sh_name;
      return sh;
    }
  }
  return nullptr;
}

inline Elf64_Sym* elf_symbol(Bytes& b, const std::string& name) {
  Elf64_Shdr* symtab = elf_section(b, ".symtab");
  auto* eh = elf_at<Elf64_Ehdr>(b, 0);
  auto* strtab = elf_at<Elf64_Shdr>(b, eh->e_shoff + symtab->sh_link * sizeof(Elf64_Shdr));
  for (uint64_t off = 0; off < symtab->sh_size; off += sizeof(Elf64_Sym)) {
    auto* sym = elf_at<Elf64_Sym>(b, symtab->sh_offset + off);
    if (name == reinterpret_cast<const char*>(b.data() + strtab->sh_offset + sym->st_name)) return sym;
  }
  return nullptr;
}

}  // namespace userbpf::test
