// BPF_MAP_TYPE_PROG_ARRAY and BPF_MAP_TYPE_ARRAY_OF_MAPS.  The kernel stores
// program / map pointers taken from fds; here slots hold the process-wide ids
// (pointers do not survive sharing the block), 0 = empty.
// Block layout: [0, 32) MapHeader, [64, ...) max_entries u32 slots.
#include <linux/bpf.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "maps/map_in_map.h"
#include "maps/map_types.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kSlotsOff = 64;
// ARRAY_CREATE_FLAG_MASK; fd_array_map_alloc_check() then refuses the PROG ones.
constexpr uint32_t kCreateFlags =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;

bool is_map_in_map(uint32_t type) {
  return type == static_cast<uint32_t>(MapType::ArrayOfMaps) || type == static_cast<uint32_t>(MapType::HashOfMaps);
}

class IdArray final : public IdArrayMap {
 public:
  IdArray(const MapSpec& spec, SharedBlock block)
      : IdArrayMap(spec, std::move(block)), of_maps_(spec.type == static_cast<uint32_t>(MapType::ArrayOfMaps)) {}

  uint32_t id_at(uint32_t index) const override {
    return index < spec_.max_entries ? slot(index)->load(std::memory_order_acquire) : 0;
  }

  // Programs get the inner map itself from an array of maps (they only hand it
  // on to helpers); prog_array lookups are refused (EOPNOTSUPP in the kernel).
  void* lookup(const void* key) override {
    if (!of_maps_) return nullptr;
    const uint32_t id = id_at(load_u32(key));
    return id ? map_by_id(id) : nullptr;
  }

  // bpf(2) lookup yields the stored id (the kernel's map_fd_sys_lookup_elem).
  long sys_lookup(const void* key, void* value) override {
    const uint32_t id = id_at(load_u32(key));
    if (id == 0) return -ENOENT;
    std::memcpy(value, &id, 4);
    return 0;
  }

  // bpf_fd_array_map_update_elem(): only BPF_ANY; the value must name a
  // program (any non-zero id: programs are not tracked here) or a compatible map.
  long update(const void* key, const void* value, uint64_t flags) override {
    if (flags != BPF_ANY) return -EINVAL;
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    const uint32_t id = load_u32(value);
    if (id == 0) return -EINVAL;
    if (of_maps_ && !inner_map_for_update(spec_.inner.get(), id)) return -EINVAL;
    slot(idx)->store(id, std::memory_order_release);
    return 0;
  }

  long remove(const void* key) override {
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    return slot(idx)->exchange(0, std::memory_order_acq_rel) ? 0 : -ENOENT;
  }

  long get_next_key(const void* key, void* next_key) override {
    return array_next_key(key, next_key, spec_.max_entries);
  }

  std::vector<Span> program_memory() const override { return {}; }

 private:
  std::atomic<uint32_t>* slot(uint32_t idx) const {
    return block_.at<std::atomic<uint32_t>>(kSlotsOff + uint64_t{idx} * 4);
  }
  bool of_maps_;
};

}  // namespace

Status check_inner_template(const MapSpec& spec) {
  if (!spec.inner) return ok_status();
  if (is_map_in_map(spec.inner->type)) return map_error(spec, "inner map template cannot be map-in-map");
  if (spec.inner->type == static_cast<uint32_t>(MapType::ProgArray))
    return map_error(spec, "inner map template cannot be a prog_array (ENOTSUPP)", ErrorKind::Unsupported);
  return ok_status();
}

Map* inner_map_for_update(const MapSpec* tmpl, uint32_t id) {
  Map* m = map_by_id(id);
  if (!m) return nullptr;
  const MapSpec& s = m->spec();
  if (is_map_in_map(s.type) || s.type == static_cast<uint32_t>(MapType::ProgArray)) return nullptr;
  if (!tmpl) return m;
  // bpf_map_meta_equal(); BPF_F_INNER_MAP on the template lets sizes vary.
  if (s.type != tmpl->type || s.key_size != tmpl->key_size || s.value_size != tmpl->value_size ||
      s.map_flags != tmpl->map_flags)
    return nullptr;
  if (!(tmpl->map_flags & BPF_F_INNER_MAP) && s.max_entries != tmpl->max_entries) return nullptr;
  return m;
}

Result<std::unique_ptr<Map>> make_id_array(const MapSpec& spec) {
  const bool of_maps = spec.type == static_cast<uint32_t>(MapType::ArrayOfMaps);
  const char* what = of_maps ? "array_of_maps" : "prog_array";
  if (spec.max_entries == 0) return map_error(spec, std::string(what) + " max_entries must be > 0");
  if (spec.key_size != 4) return map_error(spec, std::string(what) + " key_size must be 4, got " + std::to_string(spec.key_size));
  if (spec.value_size != 4)
    return map_error(spec, std::string(what) + " value_size must be 4, got " + std::to_string(spec.value_size));
  if (spec.map_flags & ~kCreateFlags) return map_error(spec, std::string("invalid ") + what + " map flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (of_maps) {
    auto st = check_inner_template(spec);
    if (!st) return st.error();
  }
  auto block = SharedBlock::create(kSlotsOff + uint64_t{spec.max_entries} * 4, spec.name);
  if (!block) return block.error();
  init_map_header(block->at<MapHeader>(0), spec);
  return std::unique_ptr<Map>(new IdArray(spec, std::move(*block)));
}

}  // namespace userbpf::maps
