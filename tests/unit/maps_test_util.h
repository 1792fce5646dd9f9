// Helpers for the map unit tests: specs, creation that fails the test on error,
// and key iteration through get_next_key.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "maps/map_types.h"

namespace maps_test {

using userbpf::maps::Map;
using userbpf::maps::MapSpec;
using userbpf::maps::MapType;

inline MapSpec spec(MapType t, uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags = 0,
                    uint64_t extra = 0) {
  MapSpec s;
  s.name = "m";
  s.type = static_cast<uint32_t>(t);
  s.key_size = key_size;
  s.value_size = value_size;
  s.max_entries = max_entries;
  s.map_flags = flags;
  s.map_extra = extra;
  return s;
}

// Creates through create_map() so the dispatcher is covered too.
inline std::unique_ptr<Map> make(const MapSpec& s) {
  auto r = userbpf::maps::create_map(s);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
  return r.ok() ? std::move(*r) : nullptr;
}

// Every key get_next_key yields from the start, as raw bytes; stops at -ENOENT or
// after `limit` steps (default max_entries + 1: more keys than that means a
// cycle or a duplicate, which the caller's count check then reports).
inline std::vector<std::vector<uint8_t>> all_keys(Map& m, size_t limit = 0) {
  if (limit == 0) limit = size_t{m.spec().max_entries} + 1;
  std::vector<std::vector<uint8_t>> keys;
  std::vector<uint8_t> cur(m.spec().key_size), next(m.spec().key_size);
  const void* prev = nullptr;
  while (keys.size() < limit) {
    if (m.get_next_key(prev, next.data()) != 0) break;
    keys.push_back(next);
    cur = next;
    prev = cur.data();
  }
  return keys;
}

inline uint32_t u32_of(const std::vector<uint8_t>& b) {
  uint32_t v;
  std::memcpy(&v, b.data(), 4);
  return v;
}

}  // namespace maps_test
