#include "cli/map_dump.h"

#include <vector>

namespace userbpf::cli {
namespace {

void hex(std::FILE* out, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) std::fprintf(out, "%s%02x", i ? " " : "", p[i]);
}

bool is_percpu(uint32_t type) {
  using maps::MapType;
  const auto t = static_cast<MapType>(type);
  return t == MapType::PercpuArray || t == MapType::PercpuHash || t == MapType::LruPercpuHash;
}

}  // namespace

void dump_map(std::FILE* out, maps::Map& map) {
  const auto& s = map.spec();
  std::fprintf(out, "map %s (%s):\n", s.name.c_str(), maps::map_type_name(s.type));
  if (s.key_size == 0) {
    std::fprintf(out, "  (no keys: %s maps are not iterable)\n", maps::map_type_name(s.type));
    return;
  }
  std::vector<uint8_t> key(s.key_size), next(s.key_size), value(map.sys_value_size());
  const void* prev = nullptr;
  size_t count = 0;
  while (map.get_next_key(prev, next.data()) == 0) {
    key = next;
    prev = key.data();
    if (map.sys_lookup(key.data(), value.data()) != 0) continue;
    ++count;
    if (is_percpu(s.type)) {
      std::fprintf(out, "key:\n");
      hex(out, key.data(), key.size());
      std::fprintf(out, "\n");
      const size_t stride = (s.value_size + 7) / 8 * 8;
      for (size_t cpu = 0; cpu * stride < value.size(); ++cpu) {
        std::fprintf(out, "value (CPU %02zu): ", cpu);
        hex(out, value.data() + cpu * stride, s.value_size);
        std::fprintf(out, "\n");
      }
    } else {
      std::fprintf(out, "key: ");
      hex(out, key.data(), key.size());
      std::fprintf(out, "  value: ");
      hex(out, value.data(), value.size());
      std::fprintf(out, "\n");
    }
    if (count > 100000) break;  // a corrupted iteration must not loop forever
  }
  std::fprintf(out, "Found %zu element%s\n", count, count == 1 ? "" : "s");
}

}  // namespace userbpf::cli
