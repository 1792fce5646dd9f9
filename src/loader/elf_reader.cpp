// The raw view of an object: code sections as stored, their function symbols and
// the license (what `userbpf disasm` prints), on top of the checked ElfImage.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "loader/elf_image.h"
#include "userbpf/loader.h"

namespace userbpf::loader {
namespace {

using detail::malformed;
using detail::in_quotes;

constexpr size_t kSlot = sizeof(isa::Insn);

Result<CodeSection> read_code_section(const detail::Section& s) {
  if (s.data.size() % kSlot != 0)
    return malformed("code section " + in_quotes(s.name) + " has size " + std::to_string(s.data.size()) +
                     ", not a multiple of 8");
  CodeSection cs;
  cs.name = s.name;
  cs.index = s.index;
  cs.insns.resize(s.data.size() / kSlot);
  if (!s.data.empty()) std::memcpy(cs.insns.data(), s.data.data(), s.data.size());
  return cs;
}

// Attaches every STT_FUNC symbol to the code section that defines it.
Status attach_functions(const std::vector<detail::Symbol>& symbols, std::vector<CodeSection>& code) {
  for (const detail::Symbol& sym : symbols) {
    if (sym.type != STT_FUNC) continue;
    auto owner = std::find_if(code.begin(), code.end(), [&](const CodeSection& c) { return c.index == sym.shndx; });
    if (owner == code.end())
      return malformed("function " + in_quotes(sym.name) + " is not in a code section (section index " +
                       std::to_string(sym.shndx) + ")");
    const uint64_t limit = owner->insns.size() * kSlot;
    if (sym.value % kSlot != 0 || sym.size % kSlot != 0)
      return malformed("function " + in_quotes(sym.name) + " in " + in_quotes(owner->name) +
                       " is not aligned to 8-byte instructions");
    if (sym.value >= limit || sym.size > limit - sym.value)
      return malformed("function " + in_quotes(sym.name) + " extends past the end of section " + in_quotes(owner->name));
    owner->functions.push_back(FuncSymbol{sym.name, sym.value, sym.size, sym.bind == STB_GLOBAL || sym.bind == STB_WEAK});
  }
  for (CodeSection& c : code)
    std::stable_sort(c.functions.begin(), c.functions.end(),
                     [](const FuncSymbol& a, const FuncSymbol& b) { return a.offset < b.offset; });
  return ok_status();
}

Result<ElfObject> parse(std::span<const uint8_t> image) {
  auto img = detail::ElfImage::open(image);
  if (!img) return img.error();
  ElfObject obj;
  for (const detail::Section& s : (*img)->sections()) {
    if (s.index == 0) continue;
    if (s.is_code()) {
      auto cs = read_code_section(s);
      if (!cs) return cs.error();
      obj.sections.push_back(std::move(*cs));
    } else if (s.name == "license" && s.shdr.sh_type == SHT_PROGBITS) {
      const auto end = std::find(s.data.begin(), s.data.end(), uint8_t{0});
      obj.license.assign(s.data.begin(), end);
    }
  }
  auto symbols = (*img)->symbols();
  if (!symbols) return symbols.error();
  if (Status st = attach_functions(*symbols, obj.sections); !st) return st.error();
  return obj;
}

Error with_path(const std::string& path, Error e) {
  e.message = path + ": " + e.message;
  return e;
}

}  // namespace

const CodeSection* ElfObject::find_section(std::string_view name) const {
  for (const CodeSection& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

bool is_elf(std::span<const uint8_t> bytes) {
  return bytes.size() >= SELFMAG && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0;
}

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return make_error(ErrorKind::Io, path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::Io, path + ": cannot open file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorKind::Io, path + ": read error");
  return bytes;
}

Result<ElfObject> read_elf(std::span<const uint8_t> bytes) { return parse(bytes); }

Result<ElfObject> read_elf(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.error();
  auto obj = parse(*bytes);
  if (!obj) return with_path(path, obj.error());
  return obj;
}

Result<CodeFile> read_code_file(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.error();
  CodeFile file;
  if (is_elf(*bytes)) {
    auto obj = parse(*bytes);
    if (!obj) return with_path(path, obj.error());
    file.is_elf = true;
    file.elf = std::move(*obj);
    return file;
  }
  auto insns = isa::from_bytes(*bytes);
  if (!insns) return with_path(path, insns.error());
  file.insns = std::move(*insns);
  return file;
}

}  // namespace userbpf::loader
