// BTF-defined maps: each variable in the .maps section is a struct whose members
// encode the map attributes in their types (libbpf's bpf_helpers.h conventions):
//   __uint(name, N)    int (*name)[N]          -> N
//   __type(name, T)    typeof(T) *name         -> T's BTF id and size
//   __array(values, S) typeof(S) *values[]     -> map-in-map template / prog_array
#include <algorithm>

#include "loader/object_internal.h"

namespace userbpf::loader::detail {
namespace {

constexpr int kMaxModifierDepth = 32;

// Strips typedefs and qualifiers; nullptr when the chain is broken or too long.
const btf_type* skip_mods(const struct btf* btf, uint32_t id, uint32_t* out_id = nullptr) {
  for (int depth = 0; depth < kMaxModifierDepth; ++depth) {
    const btf_type* t = btf__type_by_id(btf, id);
    if (!t) return nullptr;
    if (!btf_is_mod(t) && !btf_is_typedef(t)) {
      if (out_id) *out_id = id;
      return t;
    }
    id = t->type;
  }
  return nullptr;
}

struct ParsedDef {
  maps::MapSpec spec;
  bool has_type = false;
  int64_t values_offset = -1;   // byte offset of the `values` member
  uint32_t inner_struct = 0;    // BTF id of the inner map definition
};

struct MemberCtx {
  const struct btf* btf;
  const std::string& map;
  std::string field;
  Error bad(const std::string& why) const {
    return malformed("map " + in_quotes(map) + ": field " + in_quotes(field) + " " + why);
  }
};

Result<uint32_t> uint_member(const MemberCtx& m, uint32_t type_id) {
  const btf_type* t = skip_mods(m.btf, type_id);
  if (t && btf_is_ptr(t)) {
    const btf_type* arr = skip_mods(m.btf, t->type);
    if (arr && btf_is_array(arr)) return btf_array(arr)->nelems;
  } else if (t && btf_is_enum(t) && btf_vlen(t) >= 1) {
    return static_cast<uint32_t>(btf_enum(t)[0].val);  // enum-encoded values of newer headers
  }
  return m.bad("is not declared with __uint()");
}

// __type(): the pointee's BTF id and its size.
Result<std::pair<uint32_t, uint32_t>> type_member(const MemberCtx& m, uint32_t type_id) {
  const btf_type* t = skip_mods(m.btf, type_id);
  if (!t || !btf_is_ptr(t)) return m.bad("is not declared with __type()");
  const long long size = btf__resolve_size(m.btf, t->type);
  if (size < 0 || size > UINT32_MAX) return m.bad("has a type whose size cannot be resolved");
  return std::pair<uint32_t, uint32_t>{t->type, static_cast<uint32_t>(size)};
}

Result<ParsedDef> parse_def(const struct btf* btf, const std::string& name, uint32_t struct_id, bool inner) {
  const btf_type* def = skip_mods(btf, struct_id);
  if (!def || !btf_is_struct(def)) return malformed("map " + in_quotes(name) + " is not defined by a struct");
  ParsedDef out;
  out.spec.name = name;
  bool has_key_size = false, has_value_size = false;
  const btf_member* members = btf_members(def);
  for (uint16_t i = 0; i < btf_vlen(def); ++i) {
    const char* mname = btf__name_by_offset(btf, members[i].name_off);
    if (!mname) return malformed("map " + in_quotes(name) + " has a member with a bad name");
    MemberCtx m{btf, name, mname};
    const std::string field = mname;
    const uint32_t mtype = members[i].type;
    auto set_uint = [&](uint32_t& dst) -> Status {
      auto v = uint_member(m, mtype);
      if (!v) return v.error();
      dst = *v;
      return ok_status();
    };
    Status st = ok_status();
    if (field == "type") {
      st = set_uint(out.spec.type);
      out.has_type = true;
    } else if (field == "max_entries") {
      st = set_uint(out.spec.max_entries);
    } else if (field == "map_flags") {
      st = set_uint(out.spec.map_flags);
    } else if (field == "pinning") {
      st = set_uint(out.spec.pinning);
      if (st && out.spec.pinning > 1)  // LIBBPF_PIN_NONE / LIBBPF_PIN_BY_NAME
        return unsupported("map " + in_quotes(name) + ": pinning type " + std::to_string(out.spec.pinning));
    } else if (field == "map_extra") {
      uint32_t v = 0;
      st = set_uint(v);
      out.spec.map_extra = v;
    } else if (field == "numa_node") {
      uint32_t ignored = 0;  // no NUMA placement in user space
      st = set_uint(ignored);
    } else if (field == "key_size" || field == "value_size") {
      uint32_t v = 0;
      st = set_uint(v);
      uint32_t& dst = field == "key_size" ? out.spec.key_size : out.spec.value_size;
      bool& has = field == "key_size" ? has_key_size : has_value_size;
      if (st && has && dst != v) return m.bad("conflicts with the size of its __type()");
      dst = v;
      has = true;
    } else if (field == "key" || field == "value") {
      auto kv = type_member(m, mtype);
      if (!kv) return kv.error();
      const bool key = field == "key";
      uint32_t& dst = key ? out.spec.key_size : out.spec.value_size;
      bool& has = key ? has_key_size : has_value_size;
      if (has && dst != kv->second) return m.bad("conflicts with the explicit size");
      dst = kv->second;
      has = true;
      (key ? out.spec.btf_key_type_id : out.spec.btf_value_type_id) = kv->first;
    } else if (field == "values") {
      if (inner) return unsupported("map " + in_quotes(name) + ": nested map-in-map templates");
      const btf_type* arr = skip_mods(btf, mtype);
      const btf_type* elem = arr && btf_is_array(arr) ? skip_mods(btf, btf_array(arr)->type) : nullptr;
      uint32_t target_id = 0;
      const btf_type* target = elem && btf_is_ptr(elem) ? skip_mods(btf, elem->type, &target_id) : nullptr;
      if (!target) return m.bad("is not declared with __array()");
      const uint32_t bit_off = btf_member_bit_offset(def, i);
      if (bit_off % 64 != 0) return m.bad("is not aligned to a pointer");
      out.values_offset = bit_off / 8;
      if (btf_is_struct(target)) {
        out.inner_struct = target_id;
      } else if (!btf_is_func_proto(target)) {
        return m.bad("holds neither maps nor programs");
      }
      if (has_value_size && out.spec.value_size != 4) return m.bad("needs a value size of 4");
      out.spec.value_size = 4;  // map ids / program ids
      has_value_size = true;
    } else {
      return unsupported("map " + in_quotes(name) + ": unknown field " + in_quotes(field));
    }
    if (!st) return st.error();
  }
  if (!out.has_type) return malformed("map " + in_quotes(name) + " has no type");
  return out;
}

}  // namespace

Status read_btf_maps(Loader& ld, std::vector<std::pair<uint32_t, MapDef>>& inner_templates) {
  const Section* sec = ld.elf.find(".maps");
  if (!sec) return ok_status();
  if (!ld.btf) return malformed("section '.maps' needs BTF, but the object has no '.BTF'");
  const int32_t ds_id = btf__find_by_name_kind(ld.btf, ".maps", BTF_KIND_DATASEC);
  if (ds_id <= 0) return malformed("BTF has no DATASEC for section '.maps'");
  const btf_type* ds = btf__type_by_id(ld.btf, static_cast<uint32_t>(ds_id));
  const btf_var_secinfo* vars = btf_var_secinfos(ds);
  for (uint16_t i = 0; i < btf_vlen(ds); ++i) {
    const btf_type* var = btf__type_by_id(ld.btf, vars[i].type);
    const char* vname = var && btf_is_var(var) ? btf__name_by_offset(ld.btf, var->name_off) : nullptr;
    if (!vname) return malformed("BTF DATASEC '.maps' entry " + std::to_string(i) + " is not a named variable");
    const std::string name = vname;
    auto sym = std::find_if(ld.symbols.begin(), ld.symbols.end(), [&](const Symbol& s) {
      return s.shndx == sec->index && s.name == name && s.type != STT_SECTION;
    });
    if (sym == ld.symbols.end()) return malformed("map " + in_quotes(name) + " has no symbol in section '.maps'");
    if (sym->value > sec->shdr.sh_size || sym->size > sec->shdr.sh_size - sym->value)
      return malformed("map " + in_quotes(name) + " extends past the end of section '.maps'");
    auto def = parse_def(ld.btf, name, var->type, false);
    if (!def) return def.error();
    const auto index = static_cast<uint32_t>(ld.out.maps.size());
    if (!ld.map_at.emplace(std::pair{sec->index, sym->value}, index).second)
      return malformed("map " + in_quotes(name) + " shares its offset in '.maps' with another map");
    if (def->values_offset >= 0) ld.slotted[index] = Loader::SlotsAt{sym->value, sym->size, static_cast<uint64_t>(def->values_offset)};
    if (def->inner_struct) {
      auto inner = parse_def(ld.btf, name + ".inner", def->inner_struct, true);
      if (!inner) return inner.error();
      MapDef tmpl;
      tmpl.spec = inner->spec;
      tmpl.section = ".maps";
      tmpl.is_inner_template = true;
      inner_templates.emplace_back(index, std::move(tmpl));
    }
    MapDef md;
    md.spec = std::move(def->spec);
    md.section = ".maps";
    ld.out.maps.push_back(std::move(md));
  }
  return ok_status();
}

Status read_maps(Loader& ld) {
  std::vector<std::pair<uint32_t, MapDef>> templates;
  if (Status st = read_legacy_maps(ld); !st) return st;
  if (Status st = read_btf_maps(ld, templates); !st) return st;
  if (Status st = read_global_data(ld); !st) return st;
  for (auto& [outer, tmpl] : templates) {
    const auto index = static_cast<int32_t>(ld.out.maps.size());
    MapDef& o = ld.out.maps[outer];
    o.spec.inner_map_index = index;
    o.spec.inner = std::make_shared<const maps::MapSpec>(tmpl.spec);
    ld.out.maps.push_back(std::move(tmpl));
  }
  return ok_status();
}

}  // namespace userbpf::loader::detail
