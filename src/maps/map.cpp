// Map base class, id registry, names and the create_map() dispatcher.
#include <cerrno>
#include <cstring>

#include "maps/map_types.h"
#include "util/id_registry.h"

namespace userbpf::maps {
namespace {

util::IdRegistry<Map>& registry() {
  static util::IdRegistry<Map> r;
  return r;
}

}  // namespace

Map::Map(MapSpec spec, SharedBlock block) : spec_(std::move(spec)), block_(std::move(block)) {
  id_ = registry().add(this);
}

Map::~Map() { registry().remove(id_); }

Map* map_by_id(uint32_t id) { return registry().find(id); }

const char* map_type_name(uint32_t type) {
  switch (static_cast<MapType>(type)) {
    case MapType::Hash: return "hash";
    case MapType::Array: return "array";
    case MapType::ProgArray: return "prog_array";
    case MapType::PerfEventArray: return "perf_event_array";
    case MapType::PercpuHash: return "percpu_hash";
    case MapType::PercpuArray: return "percpu_array";
    case MapType::LruHash: return "lru_hash";
    case MapType::LruPercpuHash: return "lru_percpu_hash";
    case MapType::LpmTrie: return "lpm_trie";
    case MapType::ArrayOfMaps: return "array_of_maps";
    case MapType::HashOfMaps: return "hash_of_maps";
    case MapType::Queue: return "queue";
    case MapType::Stack: return "stack";
    case MapType::Ringbuf: return "ringbuf";
    case MapType::BloomFilter: return "bloom_filter";
  }
  return "unknown";
}

long Map::push(const void*, uint64_t) { return -22; /* -EINVAL: not a queue/stack/bloom map */ }
long Map::pop(void*) { return -22; }
long Map::peek(void*) { return -22; }

// Defaults for maps whose user-space side is a plain copy of the program side.
long Map::sys_lookup(const void* key, void* value) {
  void* v = lookup(key);
  if (!v) return -ENOENT;
  std::memcpy(value, v, spec_.value_size);
  return 0;
}
long Map::sys_update(const void* key, const void* value, uint64_t flags) { return update(key, value, flags); }

size_t Map::sys_value_size() const {
  if (is_percpu_map_type(spec_.type)) return round_up8(spec_.value_size) * static_cast<size_t>(num_possible_cpus());
  return spec_.value_size;
}

Result<std::unique_ptr<Map>> create_map(const MapSpec& spec) {
  switch (static_cast<MapType>(spec.type)) {
    case MapType::Array:
    case MapType::PercpuArray: return make_array(spec);
    case MapType::Hash:
    case MapType::PercpuHash:
    case MapType::LruHash:
    case MapType::LruPercpuHash: return make_hash(spec);
    case MapType::BloomFilter: return make_bloom_filter(spec);
    case MapType::Queue:
    case MapType::Stack: return make_queue_stack(spec);
    case MapType::LpmTrie: return make_lpm_trie(spec);
    case MapType::Ringbuf: return make_ringbuf(spec);
    case MapType::PerfEventArray: return make_perf_event_array(spec);
    case MapType::ProgArray:
    case MapType::ArrayOfMaps: return make_id_array(spec);
    case MapType::HashOfMaps: return make_hash_of_maps(spec);
  }
  return make_error(ErrorKind::Unsupported, "map '" + spec.name + "': map type " + std::to_string(spec.type) +
                                                " is not supported");
}

Result<std::unique_ptr<Map>> attach_map(const MapSpec& spec, int fd) {
  auto block = SharedBlock::attach(fd);
  if (!block) return block.error();
  switch (static_cast<MapType>(spec.type)) {
    case MapType::Array:
    case MapType::PercpuArray: return attach_array(spec, std::move(*block));
    case MapType::Hash:
    case MapType::PercpuHash:
    case MapType::LruHash:
    case MapType::LruPercpuHash: return attach_hash(spec, std::move(*block));
    case MapType::BloomFilter: return attach_bloom_filter(spec, std::move(*block));
    case MapType::Queue:
    case MapType::Stack: return attach_queue_stack(spec, std::move(*block));
    default: break;
  }
  return make_error(ErrorKind::Unsupported, "map '" + spec.name + "': attaching to a " +
                                                map_type_name(spec.type) + " map is not supported");
}

}  // namespace userbpf::maps
