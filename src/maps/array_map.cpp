// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.  Block layout:
//   [0, 64)   MapHeader
//   [64, ...) values: max_entries * ncpus slots of round_up8(value_size) bytes,
//             slot (index, cpu) at index * ncpus + cpu (ncpus = 1 for plain arrays)
// Values are zero from creation (fresh memfd pages) and are never freed.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "maps/map_types.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kValuesOff = 64;
constexpr uint32_t kArrayCreateFlags =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG |
    BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
constexpr uint32_t kPcpuMinUnitSize = 32768;  // PCPU_MIN_UNIT_SIZE: largest per-CPU value

struct Layout {
  uint64_t elem_size = 0;
  uint32_t ncpus = 1;
  uint64_t block_size = 0;
};

// array_map_alloc_check() and the size checks of array_map_alloc().
Result<Layout> check_spec(const MapSpec& spec) {
  const bool percpu = spec.type == static_cast<uint32_t>(MapType::PercpuArray);
  if (spec.max_entries == 0) return map_error(spec, "array map max_entries must be > 0");
  if (spec.key_size != 4) return map_error(spec, "array map key_size must be 4, got " + std::to_string(spec.key_size));
  if (spec.value_size == 0) return map_error(spec, "array map value_size must be > 0");
  if (spec.map_flags & ~kArrayCreateFlags) return map_error(spec, "invalid array map flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (percpu && (spec.map_flags & BPF_F_MMAPABLE)) return map_error(spec, "per-CPU array cannot be BPF_F_MMAPABLE");
  Layout l;
  l.elem_size = round_up8(spec.value_size);
  if (percpu && l.elem_size > kPcpuMinUnitSize)
    return map_error(spec, "per-CPU array value_size " + std::to_string(spec.value_size) + " is too big (E2BIG)");
  l.ncpus = percpu ? static_cast<uint32_t>(num_possible_cpus()) : 1;
  // Divide rather than multiply: value_size * max_entries can overflow 64 bits.
  if (spec.max_entries > (kMaxMapBlock - kValuesOff) / (l.elem_size * l.ncpus))
    return map_error(spec, "array map is too big (E2BIG)");
  l.block_size = kValuesOff + uint64_t{spec.max_entries} * l.ncpus * l.elem_size;
  return l;
}

class ArrayMap final : public Map {
 public:
  ArrayMap(const MapSpec& spec, SharedBlock block, const Layout& l)
      : Map(spec, std::move(block)),
        percpu_(spec.type == static_cast<uint32_t>(MapType::PercpuArray)),
        elem_size_(l.elem_size),
        ncpus_(l.ncpus) {
    array_values_ = slot(0, 0);
    array_stride_ = elem_size_ * ncpus_;
    array_cpu_stride_ = percpu_ ? elem_size_ : 0;
  }

  void* lookup(const void* key) override { return array_lookup(load_u32(key)); }

  // array_map_update_elem(): the program side writes this CPU's slot.
  long update(const void* key, const void* value, uint64_t flags) override {
    if ((flags & ~uint64_t{BPF_F_LOCK}) > BPF_EXIST) return -EINVAL;
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    if (flags & BPF_NOEXIST) return -EEXIST;  // every element always exists
    if (flags & BPF_F_LOCK) return -EINVAL;   // values carry no bpf_spin_lock
    std::memcpy(array_lookup(idx), value, spec_.value_size);
    return 0;
  }

  long remove(const void*) override { return -EINVAL; }

  long sys_lookup(const void* key, void* value) override {
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -ENOENT;
    if (!percpu_) {
      std::memcpy(value, slot(idx, 0), spec_.value_size);
      return 0;
    }
    // Whole 8-byte granules: the padding in storage is zero, so user space gets
    // zeroed padding as from the kernel.
    auto* out = static_cast<uint8_t*>(value);
    for (uint32_t cpu = 0; cpu < ncpus_; ++cpu) std::memcpy(out + cpu * elem_size_, slot(idx, cpu), elem_size_);
    return 0;
  }

  long sys_update(const void* key, const void* value, uint64_t flags) override {
    if (!percpu_) return update(key, value, flags);
    // bpf_percpu_array_update(): no BPF_F_LOCK for per-CPU arrays.
    if (flags > BPF_EXIST) return -EINVAL;
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    if (flags & BPF_NOEXIST) return -EEXIST;
    const auto* in = static_cast<const uint8_t*>(value);
    for (uint32_t cpu = 0; cpu < ncpus_; ++cpu) std::memcpy(slot(idx, cpu), in + cpu * elem_size_, spec_.value_size);
    return 0;
  }

  long get_next_key(const void* key, void* next_key) override {
    return array_next_key(key, next_key, spec_.max_entries);
  }

  std::vector<Span> program_memory() const override {
    const size_t size = static_cast<size_t>(uint64_t{spec_.max_entries} * ncpus_ * elem_size_);
    return {Span{reinterpret_cast<uintptr_t>(block_.data() + kValuesOff), size,
                 (spec_.map_flags & BPF_F_RDONLY_PROG) == 0}};
  }

 private:
  uint8_t* slot(uint32_t idx, uint32_t cpu) const {
    return block_.data() + kValuesOff + (uint64_t{idx} * ncpus_ + cpu) * elem_size_;
  }

  bool percpu_;
  uint64_t elem_size_;
  uint32_t ncpus_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_array(const MapSpec& spec) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  auto block = SharedBlock::create(layout->block_size, spec.name);
  if (!block) return map_error(spec, block.error().message, block.error().kind);
  init_map_header(block->at<MapHeader>(0), spec);
  return std::unique_ptr<Map>(new ArrayMap(spec, std::move(*block), *layout));
}

Result<std::unique_ptr<Map>> attach_array(const MapSpec& spec, SharedBlock block) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  if (auto st = check_map_header(block, spec, layout->block_size); !st) return st.error();
  return std::unique_ptr<Map>(new ArrayMap(spec, std::move(block), *layout));
}

}  // namespace userbpf::maps
