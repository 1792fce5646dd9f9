// BPF_MAP_TYPE_HASH_OF_MAPS: a plain hash map (hash_map.cpp's core, created as
// BPF_MAP_TYPE_HASH with the same sizes and flags) whose u32 values are inner
// map ids.  The wrapper maps the core's block a second time, so block() and its
// fd give another process the same elements.  Flags and errors are the hash
// map's; only the values are checked (a live, template-compatible map) and
// program lookups return the inner Map* instead of a value pointer.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "maps/map_in_map.h"
#include "maps/map_types.h"

namespace userbpf::maps {
namespace {

class HashOfMaps final : public Map {
 public:
  HashOfMaps(const MapSpec& spec, SharedBlock block, std::unique_ptr<Map> core)
      : Map(spec, std::move(block)), core_(std::move(core)) {}

  void* lookup(const void* key) override {
    const void* v = core_->lookup(key);
    if (!v) return nullptr;
    uint32_t id;
    std::memcpy(&id, v, 4);
    return map_by_id(id);
  }

  // bpf_fd_htab_map_update_elem(): resolve the value before touching the table.
  long update(const void* key, const void* value, uint64_t flags) override {
    uint32_t id;
    std::memcpy(&id, value, 4);
    if (!inner_map_for_update(spec_.inner.get(), id)) return -EINVAL;
    return core_->update(key, value, flags);
  }

  long remove(const void* key) override { return core_->remove(key); }
  long sys_lookup(const void* key, void* value) override { return core_->sys_lookup(key, value); }
  long sys_update(const void* key, const void* value, uint64_t flags) override { return update(key, value, flags); }
  long sys_delete(const void* key) override { return core_->sys_delete(key); }
  long get_next_key(const void* key, void* next_key) override { return core_->get_next_key(key, next_key); }

  // Programs only get Map* handles from this map, never value memory.
  std::vector<Span> program_memory() const override { return {}; }

 private:
  std::unique_ptr<Map> core_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_hash_of_maps(const MapSpec& spec) {
  // fd_htab_map_alloc_check(): values are 4-byte ids (fds in the kernel).
  if (spec.value_size != 4)
    return map_error(spec, "hash_of_maps value_size must be 4, got " + std::to_string(spec.value_size));
  if (auto st = check_inner_template(spec); !st) return st.error();
  MapSpec core_spec = spec;
  core_spec.type = static_cast<uint32_t>(MapType::Hash);
  core_spec.inner.reset();
  auto core = make_hash(core_spec);
  if (!core) return core.error();
  auto block = SharedBlock::attach((*core)->block().fd());
  if (!block) return map_error(spec, block.error().message, block.error().kind);
  return std::unique_ptr<Map>(new HashOfMaps(spec, std::move(*block), std::move(*core)));
}

}  // namespace userbpf::maps
