// Bounds-checked access to a relocatable eBPF ELF object through libelf.  The
// object is untrusted input: every size, offset and index is checked before use
// and every failure becomes a Malformed error.
#include "loader/elf_image.h"

#include <libelf.h>

#include <algorithm>
#include <cstring>

namespace userbpf::loader::detail {
namespace {

std::string elf_error_text() {
  const char* msg = elf_errmsg(-1);
  return msg ? msg : "unknown libelf error";
}

// libelf needs its version handshake once per process before any other call.
bool libelf_ready() {
  static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
  return ready;
}

Status check_header(Elf* elf, std::span<const uint8_t> image) {
  if (elf_kind(elf) != ELF_K_ELF) return malformed("not an ELF object");
  if (gelf_getclass(elf) != ELFCLASS64) return malformed("not a 64-bit ELF object (eBPF objects are ELF64)");
  if (image[EI_DATA] != ELFDATA2LSB) return malformed("not a little-endian ELF object");
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf, &ehdr)) return malformed("cannot read ELF header: " + elf_error_text());
  if (ehdr.e_machine != EM_BPF)
    return malformed("ELF machine is " + std::to_string(ehdr.e_machine) + ", not EM_BPF (247)");
  if (ehdr.e_type != ET_REL)
    return malformed("ELF type is " + std::to_string(ehdr.e_type) + ", not a relocatable object (ET_REL)");
  return ok_status();
}

}  // namespace

Error malformed(std::string msg) { return make_error(ErrorKind::Malformed, std::move(msg)); }
Error unsupported(std::string msg) { return make_error(ErrorKind::Unsupported, std::move(msg)); }
std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

ElfImage::~ElfImage() {
  if (elf_) elf_end(elf_);
}

Result<std::unique_ptr<ElfImage>> ElfImage::open(std::span<const uint8_t> image) {
  if (image.size() < SELFMAG || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0)
    return malformed("not an ELF object (bad magic)");
  if (image.size() < sizeof(Elf64_Ehdr)) return malformed("ELF header is truncated");
  if (!libelf_ready()) return malformed("libelf initialisation failed: " + elf_error_text());
  std::unique_ptr<ElfImage> img(new ElfImage());
  // elf_memory wants a mutable pointer; in ELF_C_READ mode it does not write through it.
  img->elf_ = elf_memory(const_cast<char*>(reinterpret_cast<const char*>(image.data())), image.size());
  if (!img->elf_) return malformed("libelf cannot open the object: " + elf_error_text());
  Elf* elf = img->elf_;
  if (Status st = check_header(elf, image); !st) return st.error();

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0) return malformed("cannot find section name table: " + elf_error_text());
  size_t count = 0;
  if (elf_getshdrnum(elf, &count) != 0) return malformed("cannot count sections: " + elf_error_text());
  // libelf quietly reports no sections when the header table lies past the end of the image.
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf, &ehdr)) return malformed("cannot read ELF header: " + elf_error_text());
  if (count == 0 || ehdr.e_shentsize != sizeof(Elf64_Shdr) || ehdr.e_shoff > image.size() ||
      count > (image.size() - ehdr.e_shoff) / sizeof(Elf64_Shdr))
    return malformed("section header table is missing or truncated");
  img->sections_.resize(count);
  for (size_t i = 1; i < count; ++i) {
    Section& s = img->sections_[i];
    s.index = i;
    Elf_Scn* scn = elf_getscn(elf, i);
    if (!scn || !gelf_getshdr(scn, &s.shdr))
      return malformed("cannot read section header " + std::to_string(i) + ": " + elf_error_text());
    const char* name = elf_strptr(elf, shstrndx, s.shdr.sh_name);
    if (!name) return malformed("section " + std::to_string(i) + " has an invalid name: " + elf_error_text());
    s.name = name;
    if (s.shdr.sh_type == SHT_NOBITS) continue;
    // Catch truncation ourselves rather than relying on each elf_getdata path.
    if (s.shdr.sh_offset > image.size() || s.shdr.sh_size > image.size() - s.shdr.sh_offset)
      return malformed("section " + in_quotes(s.name) + " extends past the end of the file");
    s.data = image.subspan(s.shdr.sh_offset, s.shdr.sh_size);
  }
  return img;
}

const Section* ElfImage::find(std::string_view name) const {
  for (size_t i = 1; i < sections_.size(); ++i)
    if (sections_[i].name == name) return &sections_[i];
  return nullptr;
}

Result<std::string> string_at(const Section& strtab, uint64_t offset) {
  if (offset >= strtab.data.size()) return malformed("string offset " + std::to_string(offset) + " is outside " + in_quotes(strtab.name));
  const auto* begin = strtab.data.data() + offset;
  const auto* end = std::find(begin, strtab.data.data() + strtab.data.size(), uint8_t{0});
  if (end == strtab.data.data() + strtab.data.size())
    return malformed("string at offset " + std::to_string(offset) + " in " + in_quotes(strtab.name) + " is not terminated");
  return std::string(reinterpret_cast<const char*>(begin), static_cast<size_t>(end - begin));
}

Result<std::vector<Symbol>> ElfImage::symbols() const {
  const Section* symtab = nullptr;
  for (const Section& s : sections_)
    if (s.shdr.sh_type == SHT_SYMTAB) {
      symtab = &s;
      break;
    }
  if (!symtab) return std::vector<Symbol>{};
  if (symtab->shdr.sh_entsize != sizeof(Elf64_Sym))
    return malformed("symbol table " + in_quotes(symtab->name) + " has entry size " + std::to_string(symtab->shdr.sh_entsize));
  const Section* strtab = at(symtab->shdr.sh_link);
  if (symtab->shdr.sh_link == 0 || !strtab || strtab->shdr.sh_type != SHT_STRTAB)
    return malformed("symbol table " + in_quotes(symtab->name) + " has no string table");
  if (symtab->data.size() % sizeof(Elf64_Sym) != 0)
    return malformed("symbol table " + in_quotes(symtab->name) + " size is not a multiple of its entry size");
  const size_t count = symtab->data.size() / sizeof(Elf64_Sym);
  std::vector<Symbol> out(count);
  for (size_t n = 1; n < count; ++n) {
    Elf64_Sym raw;
    std::memcpy(&raw, symtab->data.data() + n * sizeof(Elf64_Sym), sizeof raw);
    Symbol& sym = out[n];
    sym.index = n;
    sym.value = raw.st_value;
    sym.size = raw.st_size;
    sym.type = ELF64_ST_TYPE(raw.st_info);
    sym.bind = ELF64_ST_BIND(raw.st_info);
    sym.shndx = raw.st_shndx;
    auto name = string_at(*strtab, raw.st_name);
    if (!name) return malformed("symbol " + std::to_string(n) + " has an invalid name");
    sym.name = std::move(*name);
  }
  return out;
}

Result<std::vector<Reloc>> ElfImage::relocations(const Section& rel, size_t num_symbols) const {
  if (rel.shdr.sh_entsize != sizeof(Elf64_Rel) || rel.data.size() % sizeof(Elf64_Rel) != 0)
    return malformed("relocation section " + in_quotes(rel.name) + " has a bad entry size");
  std::vector<Reloc> out(rel.data.size() / sizeof(Elf64_Rel));
  for (size_t i = 0; i < out.size(); ++i) {
    Elf64_Rel raw;
    std::memcpy(&raw, rel.data.data() + i * sizeof(Elf64_Rel), sizeof raw);
    out[i] = Reloc{raw.r_offset, static_cast<uint32_t>(ELF64_R_SYM(raw.r_info)),
                   static_cast<uint32_t>(ELF64_R_TYPE(raw.r_info))};
    if (out[i].sym == 0 || out[i].sym >= num_symbols)
      return malformed("relocation " + std::to_string(i) + " in " + in_quotes(rel.name) + " refers to symbol " +
                       std::to_string(out[i].sym) + ", which does not exist");
  }
  return out;
}

}  // namespace userbpf::loader::detail
