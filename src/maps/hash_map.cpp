// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH on one hash-table
// core.  Block layout (all references are element indices + 1, 0 = none):
//   [0, 128)      HashHeader (MapHeader, seed, free list, element count, LRU clock)
//   [128, ...)    n_buckets Buckets {lock, head}, n_buckets = roundup_pow_of_two(max_entries)
//   [elems, ...)  max_entries Elems, each: ElemHdr, key (8-byte granules), value
//                 (per-CPU: ncpus values of round_up8(value_size) bytes)
// Elements are preallocated and reused, never unmapped, so value pointers handed to
// programs stay valid memory, as with the kernel's preallocated hash maps.
// Locking: a spinlock per bucket guards its chain and the values of its elements;
// the free list has its own lock; no path holds two locks at once.
#include <linux/bpf.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "maps/map_types.h"
#include "maps/shm_sync.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kBucketsOff = 128;
constexpr uint64_t kKmallocMaxSize = uint64_t{1} << 22;  // KMALLOC_MAX_SIZE on x86-64 (4 MiB)
constexpr uint32_t kPcpuMinUnitSize = 32768;
constexpr uint32_t kHashCreateFlags = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_RDONLY |
                                      BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_ZERO_SEED;
// Elements an LRU eviction compares; maps this small get an exact LRU.
constexpr uint32_t kLruSample = 128;

struct HashHeader {
  MapHeader base;
  uint64_t seed;
  uint32_t n_buckets;
  ShmSpinLock free_lock;
  uint32_t free_head;   // free list of released elements (under free_lock)
  uint32_t next_fresh;  // elements [next_fresh, max_entries) were never used (under free_lock)
  std::atomic<uint32_t> count;
  std::atomic<uint64_t> lru_clock;  // bumped per insertion; elements record it when used
  std::atomic<uint32_t> lru_hand;   // where the next eviction starts sampling
};
static_assert(sizeof(HashHeader) <= kBucketsOff);

struct Bucket {
  ShmSpinLock lock;
  uint32_t head;
};

struct ElemHdr {
  uint32_t next;                     // bucket chain or free list
  std::atomic<uint32_t> hash;        // atomic: LRU sampling reads it without the lock
  std::atomic<uint32_t> in_use;      // linked into a bucket
  uint32_t pad;
  std::atomic<uint64_t> last_used;   // LRU age
};
static_assert(sizeof(ElemHdr) == 24);

struct Layout {
  bool percpu = false, lru = false;
  uint32_t ncpus = 1;
  uint32_t n_buckets = 1;
  uint64_t key_off = sizeof(ElemHdr), value_off = 0, value_slot = 0, elem_size = 0;
  uint64_t elems_off = 0, block_size = 0;
};

// htab_map_alloc_check() and the size checks of htab_map_alloc().
Result<Layout> check_spec(const MapSpec& spec) {
  Layout l;
  const auto t = static_cast<MapType>(spec.type);
  l.percpu = t == MapType::PercpuHash || t == MapType::LruPercpuHash;
  l.lru = t == MapType::LruHash || t == MapType::LruPercpuHash;
  if (spec.map_flags & ~kHashCreateFlags) return map_error(spec, "invalid hash map flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (!l.lru && (spec.map_flags & BPF_F_NO_COMMON_LRU))
    return map_error(spec, "BPF_F_NO_COMMON_LRU is only valid for LRU hash maps");
  if (l.lru && (spec.map_flags & BPF_F_NO_PREALLOC))
    return map_error(spec, "LRU hash maps must be preallocated (BPF_F_NO_PREALLOC is not supported)",
                     ErrorKind::Unsupported);
  if ((spec.map_flags & BPF_F_NUMA_NODE) && (l.percpu || (spec.map_flags & BPF_F_NO_COMMON_LRU)))
    return map_error(spec, "BPF_F_NUMA_NODE is not valid for per-CPU hash maps");
  if (spec.max_entries == 0) return map_error(spec, "hash map max_entries must be > 0");
  if (spec.key_size == 0) return map_error(spec, "hash map key_size must be > 0");
  if (spec.value_size == 0) return map_error(spec, "hash map value_size must be > 0");
  if (uint64_t{spec.key_size} + spec.value_size >= kKmallocMaxSize - 64)
    return map_error(spec, "hash map key_size + value_size is too big (E2BIG)");
  if (l.percpu && round_up8(spec.value_size) > kPcpuMinUnitSize)
    return map_error(spec, "per-CPU hash map value_size is too big (E2BIG)");
  if (spec.max_entries > (uint32_t{1} << 31)) return map_error(spec, "hash map max_entries is too big (E2BIG)");
  l.ncpus = l.percpu ? static_cast<uint32_t>(num_possible_cpus()) : 1;
  while (l.n_buckets < spec.max_entries) l.n_buckets <<= 1;
  l.value_off = l.key_off + round_up8(spec.key_size);
  l.value_slot = round_up8(spec.value_size);
  l.elem_size = l.value_off + l.value_slot * l.ncpus;
  l.elems_off = (kBucketsOff + uint64_t{l.n_buckets} * sizeof(Bucket) + 63) & ~uint64_t{63};
  l.block_size = l.elems_off + uint64_t{spec.max_entries} * l.elem_size;
  if (l.block_size > kMaxMapBlock) return map_error(spec, "hash map is too big (E2BIG)");
  return l;
}

class HashMap final : public Map {
 public:
  HashMap(const MapSpec& spec, SharedBlock block, const Layout& l) : Map(spec, std::move(block)), l_(l) {
    hdr_ = block_.at<HashHeader>(0);
    buckets_ = block_.at<Bucket>(kBucketsOff);
    elems_ = block_.data() + l_.elems_off;
  }

  // Set up a fresh (all-zero) block.
  void init() {
    auto* h = new (block_.data()) HashHeader{};
    init_map_header(&h->base, spec_);
    h->n_buckets = l_.n_buckets;
    uint64_t seed = 0;
    if (!(spec_.map_flags & BPF_F_ZERO_SEED)) {
      if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = reinterpret_cast<uintptr_t>(this);
    }
    h->seed = seed;
  }

  void* lookup(const void* key) override {
    const uint32_t hash = hash_of(key);
    Bucket& b = bucket(hash);
    uint32_t e;
    {
      ShmGuard g(b.lock);
      uint32_t prev;
      e = find(b, key, hash, prev);
    }
    if (!e) return nullptr;
    touch(e);
    return value_slot(e, l_.percpu ? static_cast<uint32_t>(current_cpu()) : 0);
  }

  long update(const void* key, const void* value, uint64_t flags) override {
    return do_update(key, value, flags, false);
  }

  long remove(const void* key) override {
    const uint32_t hash = hash_of(key);
    Bucket& b = bucket(hash);
    uint32_t e;
    {
      ShmGuard g(b.lock);
      uint32_t prev;
      e = find(b, key, hash, prev);
      if (!e) return -ENOENT;
      unlink(b, e, prev);
    }
    free_elem(e);
    return 0;
  }

  long sys_lookup(const void* key, void* value) override {
    const uint32_t hash = hash_of(key);
    Bucket& b = bucket(hash);
    ShmGuard g(b.lock);
    uint32_t prev;
    const uint32_t e = find(b, key, hash, prev);
    if (!e) return -ENOENT;  // the syscall side does not refresh LRU ages, as in the kernel
    if (!l_.percpu) {
      std::memcpy(value, value_slot(e, 0), spec_.value_size);
    } else {
      auto* out = static_cast<uint8_t*>(value);
      for (uint32_t cpu = 0; cpu < l_.ncpus; ++cpu) std::memcpy(out + cpu * l_.value_slot, value_slot(e, cpu), l_.value_slot);
    }
    return 0;
  }

  long sys_update(const void* key, const void* value, uint64_t flags) override {
    return do_update(key, value, flags, l_.percpu);
  }

  // Kernel order: the rest of the key's bucket chain, then the following buckets;
  // a missing (or null) key restarts from the first element.
  long get_next_key(const void* key, void* next_key) override {
    uint32_t start = 0;
    if (key) {
      const uint32_t hash = hash_of(key);
      Bucket& b = bucket(hash);
      ShmGuard g(b.lock);
      uint32_t prev;
      const uint32_t e = find(b, key, hash, prev);
      if (e) {
        if (const uint32_t n = elem(e)->next) {
          std::memcpy(next_key, key_of(n), spec_.key_size);
          return 0;
        }
        start = (hash & (l_.n_buckets - 1)) + 1;
      }
    }
    for (uint32_t i = start; i < l_.n_buckets; ++i) {
      Bucket& b = buckets_[i];
      ShmGuard g(b.lock);
      if (b.head) {
        std::memcpy(next_key, key_of(b.head), spec_.key_size);
        return 0;
      }
    }
    return -ENOENT;
  }

  std::vector<Span> program_memory() const override {
    return {Span{reinterpret_cast<uintptr_t>(elems_), static_cast<size_t>(uint64_t{spec_.max_entries} * l_.elem_size),
                 (spec_.map_flags & BPF_F_RDONLY_PROG) == 0}};
  }

 private:
  ElemHdr* elem(uint32_t ref) const { return reinterpret_cast<ElemHdr*>(elems_ + uint64_t{ref - 1} * l_.elem_size); }
  uint8_t* key_of(uint32_t ref) const { return reinterpret_cast<uint8_t*>(elem(ref)) + l_.key_off; }
  uint8_t* value_slot(uint32_t ref, uint32_t cpu) const {
    return reinterpret_cast<uint8_t*>(elem(ref)) + l_.value_off + uint64_t{cpu} * l_.value_slot;
  }
  uint32_t hash_of(const void* key) const { return static_cast<uint32_t>(map_hash(key, spec_.key_size, hdr_->seed)); }
  Bucket& bucket(uint32_t hash) const { return buckets_[hash & (l_.n_buckets - 1)]; }

  // Under b.lock.  Returns the element ref (0 when absent) and its predecessor.
  uint32_t find(const Bucket& b, const void* key, uint32_t hash, uint32_t& prev) const {
    prev = 0;
    for (uint32_t e = b.head; e; prev = e, e = elem(e)->next) {
      if (elem(e)->hash.load(std::memory_order_relaxed) == hash && std::memcmp(key_of(e), key, spec_.key_size) == 0)
        return e;
    }
    return 0;
  }

  // Under b.lock.
  void unlink(Bucket& b, uint32_t e, uint32_t prev) {
    if (prev) elem(prev)->next = elem(e)->next;
    else b.head = elem(e)->next;
    elem(e)->in_use.store(0, std::memory_order_relaxed);
    hdr_->count.fetch_sub(1, std::memory_order_relaxed);
  }

  void touch(uint32_t e) {
    if (!l_.lru) return;
    const uint64_t now = hdr_->lru_clock.load(std::memory_order_relaxed);
    // Skip the store when current: keeps hot elements' cache lines clean.
    if (elem(e)->last_used.load(std::memory_order_relaxed) != now)
      elem(e)->last_used.store(now, std::memory_order_relaxed);
  }

  // Under the bucket lock of e: the value write of an update.
  void write_value(uint32_t e, const void* value, bool all_cpus, bool fresh) {
    if (!l_.percpu) {
      std::memcpy(value_slot(e, 0), value, spec_.value_size);
    } else if (all_cpus) {
      const auto* in = static_cast<const uint8_t*>(value);
      for (uint32_t cpu = 0; cpu < l_.ncpus; ++cpu) std::memcpy(value_slot(e, cpu), in + cpu * l_.value_slot, spec_.value_size);
    } else {
      // Program side: this CPU's value; a new element starts zeroed on the others.
      const uint32_t me = static_cast<uint32_t>(current_cpu());
      if (fresh) std::memset(value_slot(e, 0), 0, l_.value_slot * l_.ncpus);
      std::memcpy(value_slot(e, me), value, spec_.value_size);
    }
  }

  long do_update(const void* key, const void* value, uint64_t flags, bool all_cpus) {
    // BPF_F_LOCK needs a bpf_spin_lock in the value, which these maps never have.
    if (flags > BPF_EXIST) return -EINVAL;
    const uint32_t hash = hash_of(key);
    Bucket& b = bucket(hash);
    uint32_t prev;
    {  // Existing key: update in place, so a full map still takes updates.
      ShmGuard g(b.lock);
      if (const uint32_t e = find(b, key, hash, prev)) {
        if (flags == BPF_NOEXIST) return -EEXIST;
        write_value(e, value, all_cpus, false);
        touch(e);
        return 0;
      }
      if (flags == BPF_EXIST) return -ENOENT;
    }
    // New key: take an element (evicting for LRU maps) without holding the bucket
    // lock, since an eviction locks the victim's bucket.
    const long n = alloc_elem();
    if (n < 0) return n;
    const uint32_t ne = static_cast<uint32_t>(n);
    std::memcpy(key_of(ne), key, spec_.key_size);
    elem(ne)->hash.store(hash, std::memory_order_relaxed);
    long ret = 0;
    {
      ShmGuard g(b.lock);
      if (const uint32_t e = find(b, key, hash, prev)) {  // another thread inserted it meanwhile
        if (flags == BPF_NOEXIST) {
          ret = -EEXIST;
        } else {
          write_value(e, value, all_cpus, false);
          touch(e);
        }
      } else {
        write_value(ne, value, all_cpus, true);
        elem(ne)->last_used.store(hdr_->lru_clock.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        elem(ne)->next = b.head;
        elem(ne)->in_use.store(1, std::memory_order_relaxed);
        b.head = ne;
        hdr_->count.fetch_add(1, std::memory_order_relaxed);
        return 0;
      }
    }
    free_elem(ne);
    return ret;
  }

  uint32_t pop_free() {
    ShmGuard g(hdr_->free_lock);
    if (const uint32_t e = hdr_->free_head) {
      hdr_->free_head = elem(e)->next;
      return e;
    }
    if (hdr_->next_fresh < spec_.max_entries) return ++hdr_->next_fresh;  // ref = index + 1
    return 0;
  }

  void free_elem(uint32_t e) {
    ShmGuard g(hdr_->free_lock);
    elem(e)->next = hdr_->free_head;
    hdr_->free_head = e;
  }

  // Element ref, or -E2BIG (plain hash full) / -ENOMEM (LRU found nothing to evict).
  long alloc_elem() {
    for (uint32_t attempt = 0;; ++attempt) {
      if (const uint32_t e = pop_free()) return e;
      if (!l_.lru) return -E2BIG;
      if (const uint32_t e = evict_one()) return e;
      // Every element is in flight in other threads' updates; wait for one to land.
      if (attempt >= 100000) return -ENOMEM;
      uint32_t spins = 64;
      shm_backoff(spins);
    }
  }

  // Approximate LRU: the oldest of up to kLruSample in-use elements from a rotating
  // hand.  Returns the unlinked element (now owned by the caller) or 0.
  uint32_t evict_one() {
    const uint32_t n = spec_.max_entries;
    const uint32_t sample = n < kLruSample ? n : kLruSample;
    const uint32_t start = hdr_->lru_hand.fetch_add(sample, std::memory_order_relaxed) % n;
    uint32_t victim = 0;
    uint64_t oldest = UINT64_MAX;
    for (uint32_t i = 0; i < sample; ++i) {
      const uint32_t ref = (start + i) % n + 1;
      ElemHdr* h = elem(ref);
      if (!h->in_use.load(std::memory_order_relaxed)) continue;
      const uint64_t age = h->last_used.load(std::memory_order_relaxed);
      if (age < oldest) oldest = age, victim = ref;
    }
    if (!victim) return 0;
    Bucket& b = bucket(elem(victim)->hash.load(std::memory_order_relaxed));
    ShmGuard g(b.lock);
    // The victim may have been deleted or moved since sampling: it must still be
    // on this chain to be taken.
    uint32_t prev = 0;
    for (uint32_t e = b.head; e; prev = e, e = elem(e)->next) {
      if (e == victim) {
        unlink(b, e, prev);
        return e;
      }
    }
    return 0;
  }

  Layout l_;
  HashHeader* hdr_;
  Bucket* buckets_;
  uint8_t* elems_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_hash(const MapSpec& spec) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  auto block = SharedBlock::create(layout->block_size, spec.name);
  if (!block) return map_error(spec, block.error().message, block.error().kind);
  auto m = std::make_unique<HashMap>(spec, std::move(*block), *layout);
  m->init();
  return std::unique_ptr<Map>(std::move(m));
}

Result<std::unique_ptr<Map>> attach_hash(const MapSpec& spec, SharedBlock block) {
  auto layout = check_spec(spec);
  if (!layout) return layout.error();
  if (auto st = check_map_header(block, spec, layout->block_size); !st) return st.error();
  if (block.at<HashHeader>(0)->n_buckets != layout->n_buckets) return map_error(spec, "shared block has another bucket count");
  return std::unique_ptr<Map>(new HashMap(spec, std::move(block), *layout));
}

}  // namespace userbpf::maps
