// BPF_MAP_TYPE_PERF_EVENT_ARRAY.  In the kernel each slot holds a perf event
// whose ring buffer receives bpf_perf_event_output() samples.  User space has
// no perf events, so every slot owns a bounded record buffer in the block
// instead.  As in the kernel, slots start empty (output fails with -ENOENT, what
// a program sees in the kernel until user space installs perf events, e.g.
// with libbpf's perf_buffer__new); sys_update with any value installs one
// ("the perf event fd") and sys_delete empties the slot again.
//
// Block layout:
//   [0, 32)        MapHeader
//   [64, ...)      max_entries slots of sizeof(Slot) + kBufferBytes each
// A record in a slot's buffer: u32 raw size, then the data zero padded so that
// the record is a multiple of 8 bytes (the kernel pads PERF_SAMPLE_RAW the same
// way, and libbpf hands the padded size to its sample callback).
#include <linux/bpf.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "maps/map_types.h"
#include "maps/shm_sync.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kSlotsOff = 64;
constexpr uint64_t kBufBytes = PerfEventArrayMap::kBufferBytes;

// ARRAY_CREATE_FLAG_MASK without BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG, which
// fd arrays refuse.
constexpr uint32_t kCreateFlags =
    BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
constexpr long kENOTSUPP = 524;  // kernel-internal ENOTSUPP, what bpf(2) returns

struct Slot {
  ShmSpinLock lock;                // producers of this slot
  std::atomic<uint32_t> installed; // 1 after sys_update, 0 after sys_delete
  std::atomic<uint32_t> value;     // last value stored by sys_update
  uint32_t pad;
  std::atomic<uint64_t> head;      // producer position (bytes ever written)
  std::atomic<uint64_t> tail;      // consumer position
  std::atomic<uint64_t> lost;      // records dropped because the buffer was full
  uint64_t pad2[3];
};
static_assert(sizeof(Slot) == 64 && kBufBytes % 8 == 0 && (kBufBytes & (kBufBytes - 1)) == 0);

constexpr uint64_t kSlotStride = sizeof(Slot) + kBufBytes;


class PerfEventArray final : public PerfEventArrayMap {
 public:
  PerfEventArray(const MapSpec& spec, SharedBlock block) : PerfEventArrayMap(spec, std::move(block)) {}

  // Programs cannot look up perf event arrays (the verifier refuses it; the
  // kernel's lookup returns ERR_PTR(-EOPNOTSUPP)); bpf(2) lookup is ENOTSUPP.
  void* lookup(const void*) override { return nullptr; }
  long sys_lookup(const void*, void*) override { return -kENOTSUPP; }

  // bpf_fd_array_map_update_elem(): only BPF_ANY, index in range.
  long update(const void* key, const void* value, uint64_t flags) override {
    if (flags != BPF_ANY) return -EINVAL;
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    uint32_t v;
    std::memcpy(&v, value, 4);
    slot(idx)->value.store(v, std::memory_order_relaxed);
    slot(idx)->installed.store(1, std::memory_order_release);
    return 0;
  }

  long remove(const void* key) override {
    const uint32_t idx = load_u32(key);
    if (idx >= spec_.max_entries) return -E2BIG;
    return slot(idx)->installed.exchange(0, std::memory_order_acq_rel) ? 0 : -ENOENT;
  }

  long get_next_key(const void* key, void* next_key) override {
    return array_next_key(key, next_key, spec_.max_entries);
  }

  std::vector<Span> program_memory() const override { return {}; }

  long output(uint64_t flags, const void* data, uint64_t size) override {
    if (flags & ~uint64_t{BPF_F_INDEX_MASK}) return -EINVAL;
    uint64_t idx = flags & BPF_F_INDEX_MASK;
    if (idx == BPF_F_CURRENT_CPU) idx = static_cast<uint64_t>(current_cpu());
    if (idx >= spec_.max_entries) return -E2BIG;
    Slot* s = slot(static_cast<uint32_t>(idx));
    if (!s->installed.load(std::memory_order_acquire)) return -ENOENT;
    if (size > kBufBytes) {
      s->lost.fetch_add(1, std::memory_order_relaxed);
      return -ENOSPC;
    }
    // The raw sample size is a u32 and, with its size field, fills whole u64s.
    const uint64_t rec = round_up8(size + 4);
    ShmGuard g(s->lock);
    const uint64_t head = s->head.load(std::memory_order_relaxed);
    const uint64_t tail = s->tail.load(std::memory_order_acquire);
    if (rec > kBufBytes - (head - tail)) {
      s->lost.fetch_add(1, std::memory_order_relaxed);
      return -ENOSPC;
    }
    const uint32_t raw = static_cast<uint32_t>(rec - 4);
    write_ring(s, head, &raw, 4);
    write_ring(s, head + 4, data, size);
    static const uint8_t zeros[8] = {};
    write_ring(s, head + 4 + size, zeros, rec - 4 - size);
    s->head.store(head + rec, std::memory_order_release);
    return 0;
  }

  long consume(uint32_t index, const std::function<int(const void* data, uint32_t size)>& cb) override {
    if (index >= spec_.max_entries) return -E2BIG;
    Slot* s = slot(index);
    uint64_t tail = s->tail.load(std::memory_order_relaxed);
    const uint64_t head = s->head.load(std::memory_order_acquire);
    long count = 0;
    std::vector<uint8_t> copy;
    while (tail < head) {
      uint32_t raw;
      read_ring(s, tail, &raw, 4);
      copy.resize(raw);
      read_ring(s, tail + 4, copy.data(), raw);
      tail += uint64_t{raw} + 4;
      s->tail.store(tail, std::memory_order_release);
      const int r = cb(copy.data(), raw);
      if (r < 0) return r;
      ++count;
    }
    return count;
  }

  uint64_t lost(uint32_t index) const override {
    return index < spec_.max_entries ? slot(index)->lost.load(std::memory_order_relaxed) : 0;
  }

 private:
  Slot* slot(uint32_t idx) const { return block_.at<Slot>(kSlotsOff + uint64_t{idx} * kSlotStride); }
  uint8_t* buf(Slot* s) const { return reinterpret_cast<uint8_t*>(s) + sizeof(Slot); }

  void write_ring(Slot* s, uint64_t pos, const void* src, uint64_t n) {
    const uint64_t off = pos % kBufBytes;
    const uint64_t first = n < kBufBytes - off ? n : kBufBytes - off;
    const auto* p = static_cast<const uint8_t*>(src);
    if (first) std::memcpy(buf(s) + off, p, first);
    if (n > first) std::memcpy(buf(s), p + first, n - first);
  }
  void read_ring(Slot* s, uint64_t pos, void* dst, uint64_t n) const {
    const uint64_t off = pos % kBufBytes;
    const uint64_t first = n < kBufBytes - off ? n : kBufBytes - off;
    auto* p = static_cast<uint8_t*>(dst);
    if (first) std::memcpy(p, buf(s) + off, first);
    if (n > first) std::memcpy(p + first, buf(s), n - first);
  }
};

}  // namespace

Result<std::unique_ptr<Map>> make_perf_event_array(const MapSpec& spec) {
  MapSpec s = spec;
  // libbpf sizes a perf event array to the possible CPUs when max_entries is 0.
  if (s.max_entries == 0) s.max_entries = static_cast<uint32_t>(num_possible_cpus());
  // fd_array_map_alloc_check() + array_map_alloc_check().
  if (s.key_size != 4) return map_error(s, "perf_event_array key_size must be 4, got " + std::to_string(s.key_size));
  if (s.value_size != 4)
    return map_error(s, "perf_event_array value_size must be 4, got " + std::to_string(s.value_size));
  if (s.map_flags & ~kCreateFlags) return map_error(s, "invalid perf_event_array map flags");
  if (!map_flags_access_ok(s.map_flags)) return map_error(s, "conflicting read-only/write-only map flags");
  const uint64_t size = kSlotsOff + uint64_t{s.max_entries} * kSlotStride;
  if (size > kMaxMapBlock) return map_error(s, "perf_event_array is too big (E2BIG)");
  auto block = SharedBlock::create(size, s.name);
  if (!block) return block.error();
  init_map_header(block->at<MapHeader>(0), s);
  return std::unique_ptr<Map>(new PerfEventArray(s, std::move(*block)));
}

}  // namespace userbpf::maps
