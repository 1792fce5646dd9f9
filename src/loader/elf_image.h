// The loader's internal view of a relocatable eBPF ELF object: section headers,
// section bytes, the symbol table and relocation entries, all bounds-checked once
// so the stages above never index into the raw image themselves.
#pragma once

#include <gelf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "userbpf/result.h"

namespace userbpf::loader::detail {

Error malformed(std::string msg);
Error unsupported(std::string msg);
std::string in_quotes(std::string_view s);  // 'name'

struct Section {
  size_t index = 0;
  std::string name;
  GElf_Shdr shdr{};
  std::span<const uint8_t> data;  // empty for SHT_NOBITS

  bool is_code() const {
    return shdr.sh_type == SHT_PROGBITS && (shdr.sh_flags & SHF_EXECINSTR) && shdr.sh_size > 0;
  }
};

struct Symbol {
  size_t index = 0;
  std::string name;
  uint64_t value = 0;
  uint64_t size = 0;
  uint8_t type = 0;   // STT_*
  uint8_t bind = 0;   // STB_*
  size_t shndx = 0;   // SHN_UNDEF for externs
};

struct Reloc {
  uint64_t offset = 0;  // bytes into the section the relocations apply to
  uint32_t sym = 0;     // symbol table index
  uint32_t type = 0;    // R_BPF_*
};

class ElfImage {
 public:
  // Checks the ELF header (ELF64, little-endian, EM_BPF, ET_REL) and the section
  // table.  The image must outlive the ElfImage.
  static Result<std::unique_ptr<ElfImage>> open(std::span<const uint8_t> image);
  ~ElfImage();
  ElfImage(const ElfImage&) = delete;
  ElfImage& operator=(const ElfImage&) = delete;

  // Index-aligned with the section header table; [0] is the null section.
  const std::vector<Section>& sections() const { return sections_; }
  const Section* find(std::string_view name) const;
  const Section* at(size_t index) const { return index < sections_.size() ? &sections_[index] : nullptr; }

  // The symbol table, index-aligned ([0] is the null symbol); empty when there is none.
  Result<std::vector<Symbol>> symbols() const;
  // Entries of an SHT_REL section, symbol indexes checked against `num_symbols`.
  Result<std::vector<Reloc>> relocations(const Section& rel, size_t num_symbols) const;

 private:
  ElfImage() = default;
  Elf* elf_ = nullptr;
  std::vector<Section> sections_;
};

// NUL-terminated string at `offset` in a string table section.
Result<std::string> string_at(const Section& strtab, uint64_t offset);

}  // namespace userbpf::loader::detail
