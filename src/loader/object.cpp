// load_object(): drives the loader's stages over one ELF image and owns the
// pieces of the public ObjectSpec that are not stage-specific.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "loader/object_internal.h"

namespace userbpf::loader {
namespace {

Result<ObjectSpec> load(std::span<const uint8_t> bytes, std::string_view name) {
  auto img = detail::ElfImage::open(bytes);
  if (!img) return img.error();
  ObjectSpec out;
  out.name = std::string(name);
  auto symbols = (*img)->symbols();
  if (!symbols) return symbols.error();
  detail::Loader ld(**img, std::move(*symbols), out);

  for (const detail::Section& s : (*img)->sections()) {
    if (s.shdr.sh_type != SHT_PROGBITS) continue;
    if (s.name == "license") {
      out.license.assign(s.data.begin(), std::find(s.data.begin(), s.data.end(), uint8_t{0}));
    } else if (s.name == "version") {
      if (s.data.size() != sizeof(uint32_t)) return detail::malformed("section 'version' is not 4 bytes");
      std::memcpy(&out.kern_version, s.data.data(), sizeof(uint32_t));
    }
  }
  for (auto stage : {detail::read_code_sections, detail::read_btf, detail::read_maps, detail::apply_code_relocations,
                     detail::read_btf_ext, detail::find_programs, detail::apply_map_slot_relocations})
    if (Status st = stage(ld); !st) return st.error();
  return out;
}

}  // namespace

std::string SourceLine::str() const {
  return file + ":" + std::to_string(line) + ": " + text;
}

std::optional<SourceLine> ProgramSpec::line_for(size_t insn) const {
  if (insn >= insns.size()) return std::nullopt;
  auto it = std::upper_bound(lines.begin(), lines.end(), insn,
                             [](size_t v, const auto& entry) { return v < entry.first; });
  if (it == lines.begin()) return std::nullopt;
  --it;
  // A line holds until the end of its function, not into the next one.
  for (const FunctionSpan& fn : functions)
    if (insn >= fn.first_insn && insn < fn.first_insn + fn.num_insns)
      return it->first >= fn.first_insn ? std::optional<SourceLine>(it->second) : std::nullopt;
  return std::nullopt;
}

const ProgramSpec* ObjectSpec::find_program(std::string_view n) const {
  for (const ProgramSpec& p : programs)
    if (p.name == n) return &p;
  return nullptr;
}

const MapDef* ObjectSpec::find_map(std::string_view n) const {
  const int i = map_index(n);
  return i < 0 ? nullptr : &maps[static_cast<size_t>(i)];
}

int ObjectSpec::map_index(std::string_view n) const {
  for (size_t i = 0; i < maps.size(); ++i)
    if (maps[i].spec.name == n) return static_cast<int>(i);
  return -1;
}

Result<ObjectSpec> load_object(std::span<const uint8_t> bytes, std::string_view name) { return load(bytes, name); }

Result<ObjectSpec> load_object(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.error();
  // libbpf's object name: the file name up to its first dot.
  std::string name = std::filesystem::path(path).filename().string();
  name = name.substr(0, name.find('.'));
  auto obj = load(*bytes, name);
  if (!obj) {
    Error e = obj.error();
    e.message = path + ": " + e.message;
    return e;
  }
  return obj;
}

}  // namespace userbpf::loader
