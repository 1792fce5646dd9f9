// BPF_MAP_TYPE_BLOOM_FILTER.  Block layout:
//   [0, 64)   BloomHeader (MapHeader, number of hash functions, seed, bit mask)
//   [64, ...) the bit set, 64-bit words set with atomic OR (no lock needed)
// Elements are values (key_size 0): push adds one, peek answers "possibly present".
#include <linux/bpf.h>
#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <new>

#include "maps/map_types.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kBitsOff = 64;
constexpr uint64_t kKmallocMaxSize = uint64_t{1} << 22;
constexpr uint32_t kBloomCreateFlags =
    BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

struct BloomHeader {
  MapHeader base;
  uint32_t nr_hash_funcs;
  uint32_t bitset_mask;
  uint64_t seed;
};
static_assert(sizeof(BloomHeader) <= kBitsOff);

struct Layout {
  uint32_t nr_hash_funcs = 5;
  uint32_t bitset_mask = 0;
  uint64_t block_size = 0;
};

// bloom_map_alloc(): bits = max_entries * hashes / ln(2) (~ * 7 / 5), rounded up to
// a power of two, at least one long; on overflow the full 2^32-bit set.
Result<Layout> check_spec(const MapSpec& spec) {
  if (spec.key_size != 0) return map_error(spec, "bloom filter key_size must be 0");
  if (spec.value_size == 0) return map_error(spec, "bloom filter value_size must be > 0");
  if (spec.max_entries == 0) return map_error(spec, "bloom filter max_entries must be > 0");
  if (spec.map_flags & ~kBloomCreateFlags) return map_error(spec, "invalid bloom filter flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (spec.map_extra & ~uint64_t{0xf}) return map_error(spec, "bloom filter map_extra must be < 16 (number of hashes)");
  if (spec.value_size > kKmallocMaxSize) return map_error(spec, "bloom filter value_size is too big (E2BIG)");
  Layout l;
  l.nr_hash_funcs = static_cast<uint32_t>(spec.map_extra & 0xf);
  if (l.nr_hash_funcs == 0) l.nr_hash_funcs = 5;
  uint64_t nr_bits = uint64_t{spec.max_entries} * l.nr_hash_funcs;
  bool full = nr_bits > UINT32_MAX;
  if (!full) {
    nr_bits = nr_bits / 5 * 7;
    full = nr_bits > (uint64_t{1} << 31);
  }
  if (full) {
    nr_bits = uint64_t{1} << 32;
  } else if (nr_bits <= 64) {
    nr_bits = 64;
  } else {
    uint64_t p = 64;
    while (p < nr_bits) p <<= 1;
    nr_bits = p;
  }
  l.bitset_mask = static_cast<uint32_t>(nr_bits - 1);
  l.block_size = kBitsOff + nr_bits / 8;
  return l;
}

class BloomFilter final : public Map {
 public:
  BloomFilter(const MapSpec& spec, SharedBlock block) : Map(spec, std::move(block)) {
    hdr_ = block_.at<BloomHeader>(0);
    words_ = block_.at<std::atomic<uint64_t>>(kBitsOff);
  }

  void init(const Layout& l) {
    auto* h = new (block_.data()) BloomHeader{};
    init_map_header(&h->base, spec_);
    h->nr_hash_funcs = l.nr_hash_funcs;
    h->bitset_mask = l.bitset_mask;
    uint64_t seed = 0;
    if (!(spec_.map_flags & BPF_F_ZERO_SEED)) {
      if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = reinterpret_cast<uintptr_t>(this);
    }
    h->seed = seed;
  }

  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -EINVAL; }
  long remove(const void*) override { return -EOPNOTSUPP; }
  long get_next_key(const void*, void*) override { return -EOPNOTSUPP; }
  long pop(void*) override { return -EOPNOTSUPP; }

  long push(const void* value, uint64_t flags) override {
    if (flags != BPF_ANY) return -EINVAL;
    for (uint32_t i = 0; i < hdr_->nr_hash_funcs; ++i) {
      const uint32_t bit = bit_of(value, i);
      words_[bit / 64].fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
    }
    return 0;
  }

  long peek(void* value) override {
    for (uint32_t i = 0; i < hdr_->nr_hash_funcs; ++i) {
      const uint32_t bit = bit_of(value, i);
      if (!(words_[bit / 64].load(std::memory_order_relaxed) & (uint64_t{1} << (bit % 64)))) return -ENOENT;
    }
    return 0;
  }

  // The bpf(2) side: BPF_MAP_LOOKUP_ELEM tests the value, BPF_MAP_UPDATE_ELEM adds it.
  long sys_lookup(const void*, void* value) override { return peek(value); }
  long sys_update(const void*, const void* value, uint64_t flags) override { return push(value, flags); }

  std::vector<Span> program_memory() const override { return {}; }

 private:
  uint32_t bit_of(const void* value, uint32_t i) const {
    return static_cast<uint32_t>(map_hash(value, spec_.value_size, hdr_->seed + i)) & hdr_->bitset_mask;
  }

  BloomHeader* hdr_;
  std::atomic<uint64_t>* words_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_bloom_filter(const MapSpec& spec) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  auto block = SharedBlock::create(layout->block_size, spec.name);
  if (!block) return map_error(spec, block.error().message, block.error().kind);
  auto m = std::make_unique<BloomFilter>(spec, std::move(*block));
  m->init(*layout);
  return std::unique_ptr<Map>(std::move(m));
}

Result<std::unique_ptr<Map>> attach_bloom_filter(const MapSpec& spec, SharedBlock block) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  if (auto st = check_map_header(block, spec, layout->block_size); !st) return st.error();
  const auto* h = block.at<BloomHeader>(0);
  if (h->nr_hash_funcs != layout->nr_hash_funcs || h->bitset_mask != layout->bitset_mask)
    return map_error(spec, "shared block holds a bloom filter of another shape");
  return std::unique_ptr<Map>(new BloomFilter(spec, std::move(block)));
}

}  // namespace userbpf::maps
