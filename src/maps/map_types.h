// Factories of the map families; create_map() (map.cpp) validates the common
// fields and dispatches here.  Internal to src/maps.
#pragma once

#include <cerrno>
#include <cstring>

#include <string>

#include "userbpf/maps.h"

namespace userbpf::maps {

Result<std::unique_ptr<Map>> make_array(const MapSpec& spec);            // array, percpu_array
Result<std::unique_ptr<Map>> make_hash(const MapSpec& spec);             // hash, percpu_hash, lru_hash, lru_percpu_hash
Result<std::unique_ptr<Map>> make_bloom_filter(const MapSpec& spec);
Result<std::unique_ptr<Map>> make_queue_stack(const MapSpec& spec);      // queue, stack
Result<std::unique_ptr<Map>> make_lpm_trie(const MapSpec& spec);
Result<std::unique_ptr<Map>> make_ringbuf(const MapSpec& spec);
Result<std::unique_ptr<Map>> make_perf_event_array(const MapSpec& spec);
Result<std::unique_ptr<Map>> make_id_array(const MapSpec& spec);         // prog_array, array_of_maps (u32 ids)
Result<std::unique_ptr<Map>> make_hash_of_maps(const MapSpec& spec);

// Build a map object over an existing block (another mapping of a map's memfd);
// the block's header must match the spec.  Used by attach_map().
Result<std::unique_ptr<Map>> attach_array(const MapSpec& spec, SharedBlock block);
Result<std::unique_ptr<Map>> attach_hash(const MapSpec& spec, SharedBlock block);
Result<std::unique_ptr<Map>> attach_bloom_filter(const MapSpec& spec, SharedBlock block);
Result<std::unique_ptr<Map>> attach_queue_stack(const MapSpec& spec, SharedBlock block);

// ---- helpers shared by the map implementations (shared_block.cpp) ----

// Largest block a map may ask for.  SharedBlock::create populates the whole
// mapping up front, so absurd specs must fail here rather than exhaust memory
// (the full 2^32-bit bloom filter, 512 MiB, still fits).
inline constexpr uint64_t kMaxMapBlock = uint64_t{1} << 30;

// The kernel stores array and per-CPU values in 8-byte granules.
inline constexpr uint64_t round_up8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

bool is_percpu_map_type(uint32_t type);

// "map 'NAME': reason"
Error map_error(const MapSpec& spec, const std::string& reason, ErrorKind kind = ErrorKind::InvalidArgument);

// bpf_map_flags_access_ok(): BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each
// other, as do BPF_F_RDONLY and BPF_F_WRONLY.
bool map_flags_access_ok(uint32_t map_flags);

// Seeded 64-bit hash of a key (the kernel uses jhash with a random seed; only
// the spread matters here, not the exact values).
uint64_t map_hash(const void* data, size_t len, uint64_t seed);

// First bytes of every block made by the map types of this file set, so that an
// attach can check it is looking at the map it was told about.
struct MapHeader {
  uint32_t magic;
  uint32_t type, key_size, value_size, max_entries, map_flags;
  uint32_t ncpus;  // num_possible_cpus() at creation (per-CPU layout)
  uint32_t reserved;
};
inline constexpr uint32_t kMapMagic = 0x4d465055;  // "UPFM"
void init_map_header(MapHeader* h, const MapSpec& spec);
Status check_map_header(const SharedBlock& block, const MapSpec& spec, size_t min_size);

// A u32 key/index; keys may sit unaligned on a program's stack.
inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// get_next_key of every array-shaped map: 0, 1, ..., max_entries - 1; a missing
// or out-of-range key restarts at 0.
inline long array_next_key(const void* key, void* next_key, uint32_t max_entries) {
  uint32_t next = 0;
  if (key) {
    const uint32_t idx = load_u32(key);
    if (idx < max_entries) {
      if (idx + 1 >= max_entries) return -ENOENT;
      next = idx + 1;
    }
  }
  std::memcpy(next_key, &next, sizeof next);
  return 0;
}

}  // namespace userbpf::maps
