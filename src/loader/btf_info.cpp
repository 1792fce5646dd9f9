// BTF (kept for pretty printing, with the data section sizes and variable offsets
// filled in from the symbol table as libbpf does) and the .BTF.ext line info and
// CO-RE records.  .BTF.ext has no public libbpf parser, so its documented layout
// (Documentation/bpf/btf.rst, "BTF.ext section") is read here, bounds-checked.
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

constexpr uint16_t kBtfMagic = 0xeB9F;

uint32_t u32_at(std::span<const uint8_t> b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

// Data section sizes and variable offsets are 0 in an object file: the linker
// would fill them in.  Fill them from the ELF image so BTF-driven dumps work.
void fix_datasecs(Loader& ld) {
  const uint32_t count = btf__type_cnt(ld.btf);
  for (uint32_t id = 1; id < count; ++id) {
    auto* t = const_cast<btf_type*>(btf__type_by_id(ld.btf, id));
    if (!t || !btf_is_datasec(t)) continue;
    const char* name = btf__name_by_offset(ld.btf, t->name_off);
    const Section* sec = name ? ld.elf.find(name) : nullptr;
    if (!sec) continue;
    if (t->size == 0) t->size = static_cast<uint32_t>(sec->shdr.sh_size);
    btf_var_secinfo* vars = btf_var_secinfos(t);
    for (uint16_t i = 0; i < btf_vlen(t); ++i) {
      const btf_type* var = btf__type_by_id(ld.btf, vars[i].type);
      const char* vname = var && btf_is_var(var) ? btf__name_by_offset(ld.btf, var->name_off) : nullptr;
      if (!vname) continue;
      for (const Symbol& sym : ld.symbols)
        if (sym.shndx == sec->index && sym.name == vname && sym.type != STT_SECTION) {
          vars[i].offset = static_cast<uint32_t>(sym.value);
          break;
        }
    }
  }
}

struct SubSection {
  std::span<const uint8_t> bytes;
  const char* what;
};

// Walks one .BTF.ext sub-section (func_info, line_info or core_relo): a record
// size, then per code section {name offset, count, records}.
template <typename Fn>
Status for_each_record(Loader& ld, const SubSection& sub, uint32_t min_rec, Fn&& fn) {
  if (sub.bytes.empty()) return ok_status();
  if (sub.bytes.size() < 4) return malformed(std::string(".BTF.ext ") + sub.what + " is truncated");
  const uint32_t rec_size = u32_at(sub.bytes, 0);
  if (rec_size < min_rec || rec_size % 4 != 0)
    return malformed(std::string(".BTF.ext ") + sub.what + " record size " + std::to_string(rec_size) + " is invalid");
  size_t off = 4;
  while (off < sub.bytes.size()) {
    if (sub.bytes.size() - off < 8) return malformed(std::string(".BTF.ext ") + sub.what + " section header is truncated");
    const uint32_t name_off = u32_at(sub.bytes, off), num = u32_at(sub.bytes, off + 4);
    off += 8;
    const char* name = btf__name_by_offset(ld.btf, name_off);
    if (!name) return malformed(std::string(".BTF.ext ") + sub.what + " names a section at a bad string offset");
    if (num == 0 || static_cast<uint64_t>(num) * rec_size > sub.bytes.size() - off)
      return malformed(std::string(".BTF.ext ") + sub.what + " for section " + in_quotes(name) + " has a bad record count");
    CodeSec* sec = nullptr;
    for (auto& [index, cs] : ld.code)
      if (cs.elf->name == name) sec = &cs;
    for (uint32_t i = 0; i < num; ++i, off += rec_size) {
      const uint32_t insn_off = u32_at(sub.bytes, off);
      if (!sec) continue;  // records for a section without code: nothing to attach to
      if (insn_off % sizeof(isa::Insn) != 0 || insn_off / sizeof(isa::Insn) >= sec->insns.size())
        return malformed(std::string(".BTF.ext ") + sub.what + " record points outside section " + in_quotes(name));
      if (Status st = fn(*sec, insn_off / sizeof(isa::Insn), sub.bytes.subspan(off, rec_size)); !st) return st;
    }
  }
  return ok_status();
}

}  // namespace

Status read_btf(Loader& ld) {
  const Section* sec = ld.elf.find(".BTF");
  if (!sec) return ok_status();
  if (sec->data.empty()) return malformed("section '.BTF' is empty");
  errno = 0;
  struct btf* raw = btf__new(sec->data.data(), static_cast<uint32_t>(sec->data.size()));
  if (!raw || libbpf_get_error(raw)) {
    const int err = raw ? static_cast<int>(-libbpf_get_error(raw)) : errno;
    return malformed("section '.BTF' is not valid BTF (" + std::string(std::strerror(err)) + ")");
  }
  ld.out.btf = std::shared_ptr<struct btf>(raw, btf__free);
  ld.btf = raw;
  fix_datasecs(ld);
  return ok_status();
}

Status read_btf_ext(Loader& ld) {
  const Section* sec = ld.elf.find(".BTF.ext");
  if (!sec) return ok_status();
  if (!ld.btf) {
    ld.out.warnings.push_back("'.BTF.ext' without '.BTF': line info ignored");
    return ok_status();
  }
  const auto b = sec->data;
  if (b.size() < 24) return malformed("section '.BTF.ext' header is truncated");
  uint16_t magic;
  std::memcpy(&magic, b.data(), sizeof magic);
  if (magic != kBtfMagic) return malformed("section '.BTF.ext' has a bad magic");
  if (b[2] != 1) return unsupported("section '.BTF.ext' version " + std::to_string(b[2]));
  const uint32_t hdr_len = u32_at(b, 4);
  if (hdr_len < 24 || hdr_len > b.size()) return malformed("section '.BTF.ext' header length is invalid");
  auto sub = [&](size_t field, const char* what) -> Result<SubSection> {
    if (field + 8 > hdr_len) return SubSection{{}, what};  // older, shorter header
    const uint64_t off = u32_at(b, field), len = u32_at(b, field + 4);
    if (hdr_len + off > b.size() || len > b.size() - hdr_len - off)
      return malformed(std::string("section '.BTF.ext' ") + what + " extends past its end");
    return SubSection{b.subspan(hdr_len + off, len), what};
  };
  auto lines = sub(16, "line_info");
  if (!lines) return lines.error();
  auto core = sub(24, "core_relo");
  if (!core) return core.error();

  Status st = for_each_record(ld, *lines, 16, [&](CodeSec& cs, size_t insn, std::span<const uint8_t> rec) -> Status {
    const char* file = btf__name_by_offset(ld.btf, u32_at(rec, 4));
    const char* text = btf__name_by_offset(ld.btf, u32_at(rec, 8));
    if (!file || !text) return malformed("line info in section " + in_quotes(cs.elf->name) + " has a bad string offset");
    const uint32_t line_col = u32_at(rec, 12);
    cs.lines.emplace_back(insn, SourceLine{file, line_col >> 10, line_col & 0x3ff, text});
    return ok_status();
  });
  if (!st) return st;
  st = for_each_record(ld, *core, 16, [&](CodeSec& cs, size_t insn, std::span<const uint8_t>) -> Status {
    cs.core_relos.insert(insn);
    return ok_status();
  });
  if (!st) return st;
  for (auto& [index, cs] : ld.code)
    std::stable_sort(cs.lines.begin(), cs.lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return ok_status();
}

}  // namespace userbpf::loader::detail
