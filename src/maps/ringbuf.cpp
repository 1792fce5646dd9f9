// BPF_MAP_TYPE_RINGBUF with the kernel's layout and protocol.  Block layout (in
// pages, as struct bpf_ringbuf places them, so record headers carry the same
// pg_off the kernel writes):
//   page 0   MapHeader, the producers' spinlock
//   page 1   consumer_pos (the only field a consumer writes)
//   page 2   producer_pos, pending_pos
//   page 3.. data area, max_entries bytes
// Records: 8-byte header { u32 len | BUSY | DISCARD, u32 pg_off } then the data,
// padded to 8 bytes.  Positions only grow; a position's byte is at pos & mask.
// Like the kernel, the data pages are mapped twice back to back, so a record
// that wraps past the end is still contiguous in memory for the program and
// the consumer.
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "maps/map_types.h"
#include "maps/shm_sync.h"

namespace userbpf::maps {
namespace {

constexpr uint32_t kBusyBit = 1u << 31;     // BPF_RINGBUF_BUSY_BIT
constexpr uint32_t kDiscardBit = 1u << 30;  // BPF_RINGBUF_DISCARD_BIT
constexpr uint32_t kHdrSize = 8;            // BPF_RINGBUF_HDR_SZ
constexpr uint64_t kMaxRecordSize = 0xffffffffu / 4;  // RINGBUF_MAX_RECORD_SZ
constexpr long kENOTSUPP = 524;             // kernel-internal ENOTSUPP, what bpf(2) returns
constexpr uint64_t kLockOff = 64;

uint64_t page_size() {
  const long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<uint64_t>(p) : 4096;
}

std::atomic<uint64_t>* pos_at(const SharedBlock& b, uint64_t off) { return b.at<std::atomic<uint64_t>>(off); }
std::atomic<uint32_t>* len_of(uint8_t* hdr) { return reinterpret_cast<std::atomic<uint32_t>*>(hdr); }

class Ringbuf final : public RingbufMap {
 public:
  Ringbuf(const MapSpec& spec, SharedBlock block, uint64_t page, uint8_t* view)
      : RingbufMap(spec, std::move(block)), page_(page), size_(spec.max_entries), mask_(size_ - 1), view_(view) {}

  ~Ringbuf() override { munmap(view_, size_ * 2); }

  // The kernel refuses element access on ring buffers: from programs with
  // ENOTSUPP, from bpf(2) with EINVAL (get_next_key: ENOTSUPP).
  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -kENOTSUPP; }
  long remove(const void*) override { return -kENOTSUPP; }
  long sys_lookup(const void*, void*) override { return -EINVAL; }
  long sys_update(const void*, const void*, uint64_t) override { return -EINVAL; }
  long sys_delete(const void*) override { return -EINVAL; }
  long get_next_key(const void*, void*) override { return -kENOTSUPP; }

  std::vector<Span> program_memory() const override {
    return {Span{reinterpret_cast<uintptr_t>(view_), size_ * 2, true}};
  }

  long output(const void* data, uint64_t size, uint64_t flags) override {
    if (flags & ~uint64_t{BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP}) return -EINVAL;
    uint8_t* rec = reserve_record(size);
    if (!rec) return -EAGAIN;
    if (size) std::memcpy(rec, data, size);
    commit(rec, false);
    return 0;
  }

  void* reserve(uint64_t size, uint64_t flags) override {
    if (flags) return nullptr;
    return reserve_record(size);
  }

  void submit(void* sample, uint64_t) override { commit(sample, false); }
  void discard(void* sample, uint64_t) override { commit(sample, true); }

  uint64_t query(uint64_t flags) const override {
    switch (flags) {
      case BPF_RB_AVAIL_DATA:
        return producer()->load(std::memory_order_acquire) - consumer()->load(std::memory_order_acquire);
      case BPF_RB_RING_SIZE: return size_;
      case BPF_RB_CONS_POS: return consumer()->load(std::memory_order_acquire);
      case BPF_RB_PROD_POS: return producer()->load(std::memory_order_acquire);
      default: return 0;
    }
  }

  long consume(const std::function<int(const void* data, uint32_t size)>& cb) override {
    uint64_t cons = consumer()->load(std::memory_order_acquire);
    long count = 0;
    for (;;) {
      const uint64_t prod = producer()->load(std::memory_order_acquire);
      if (cons >= prod) break;
      uint8_t* hdr = view_ + (cons & mask_);
      const uint32_t len = len_of(hdr)->load(std::memory_order_acquire);
      if (len & kBusyBit) break;  // still being written: later records wait for it
      const uint32_t data_len = len & ~kDiscardBit;
      cons += round_up8(uint64_t{data_len} + kHdrSize);
      if (len & kDiscardBit) {
        consumer()->store(cons, std::memory_order_release);
        continue;
      }
      const int r = cb(hdr + kHdrSize, data_len);
      // Like libbpf: the record counts as consumed even when the callback fails.
      consumer()->store(cons, std::memory_order_release);
      if (r < 0) return r;
      ++count;
    }
    return count;
  }

 private:
  ShmSpinLock* lock() const { return block_.at<ShmSpinLock>(kLockOff); }
  std::atomic<uint64_t>* consumer() const { return pos_at(block_, page_); }
  std::atomic<uint64_t>* producer() const { return pos_at(block_, page_ * 2); }
  std::atomic<uint64_t>* pending() const { return pos_at(block_, page_ * 2 + 8); }

  // __bpf_ringbuf_reserve(): producers serialise on the spinlock; the record is
  // published BUSY and the producer position moves with a release store.
  uint8_t* reserve_record(uint64_t size) {
    if (size > kMaxRecordSize) return nullptr;
    const uint64_t len = round_up8(size + kHdrSize);
    if (len > size_) return nullptr;
    const uint64_t cons = consumer()->load(std::memory_order_acquire);
    ShmGuard g(*lock());
    uint64_t pend = pending()->load(std::memory_order_relaxed);
    const uint64_t prod = producer()->load(std::memory_order_relaxed);
    const uint64_t new_prod = prod + len;
    // Records below pending_pos are committed; a BUSY one must not be
    // overwritten even if a consumer moved consumer_pos past it.
    while (pend < prod) {
      const uint32_t hl = len_of(view_ + (pend & mask_))->load(std::memory_order_acquire);
      if (hl & kBusyBit) break;
      pend += round_up8(uint64_t{hl & ~kDiscardBit} + kHdrSize);
    }
    pending()->store(pend, std::memory_order_relaxed);
    if (new_prod - cons > mask_ || new_prod - pend > mask_) return nullptr;
    uint8_t* hdr = view_ + (prod & mask_);
    const uint32_t pg_off = static_cast<uint32_t>((page_ * 3 + (prod & mask_)) / page_);
    std::memcpy(hdr + 4, &pg_off, 4);
    len_of(hdr)->store(static_cast<uint32_t>(size) | kBusyBit, std::memory_order_relaxed);
    producer()->store(new_prod, std::memory_order_release);
    return hdr + kHdrSize;
  }

  // bpf_ringbuf_commit(): clearing BUSY publishes the record (full barrier, as
  // the kernel's xchg).  Pointers that are not a reserved record are ignored.
  void commit(void* sample, bool discard) {
    auto* p = static_cast<uint8_t*>(sample);
    if (p < view_ + kHdrSize || p >= view_ + size_ + kHdrSize) return;
    if ((p - view_) % 8 != 0) return;
    auto* len = len_of(p - kHdrSize);
    uint32_t cur = len->load(std::memory_order_relaxed);
    if (!(cur & kBusyBit)) return;
    uint32_t next = cur & ~kBusyBit;
    if (discard) next |= kDiscardBit;
    len->exchange(next, std::memory_order_acq_rel);
  }

  uint64_t page_;
  uint64_t size_, mask_;
  uint8_t* view_;  // data area mapped twice: [view_, view_ + 2 * size_)
};

}  // namespace

Result<std::unique_ptr<Map>> make_ringbuf(const MapSpec& spec) {
  const uint64_t page = page_size();
  // ringbuf_map_alloc(): only BPF_F_NUMA_NODE, no key/value, a power-of-2,
  // page-aligned size.
  if (spec.map_flags & ~uint32_t{BPF_F_NUMA_NODE}) return map_error(spec, "invalid ringbuf map flags");
  if (spec.key_size != 0 || spec.value_size != 0)
    return map_error(spec, "ringbuf key_size and value_size must be 0");
  const uint64_t size = spec.max_entries;
  if (size == 0 || (size & (size - 1)) != 0 || size % page != 0)
    return map_error(spec, "ringbuf max_entries must be a power of 2 and a multiple of the page size (" +
                               std::to_string(page) + "), got " + std::to_string(size));
  const uint64_t data_off = page * 3;
  auto block = SharedBlock::create(data_off + size, spec.name);
  if (!block) return block.error();
  init_map_header(block->at<MapHeader>(0), spec);
  // Reserve address space for two copies, then map the data pages into both.
  void* area = mmap(nullptr, size * 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) return map_error(spec, "cannot reserve address space for the ring", ErrorKind::Io);
  auto* view = static_cast<uint8_t*>(area);
  for (int copy = 0; copy < 2; ++copy) {
    void* p = mmap(view + copy * size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, block->fd(),
                   static_cast<off_t>(data_off));
    if (p == MAP_FAILED) {
      munmap(area, size * 2);
      return map_error(spec, "cannot map the ring's data pages", ErrorKind::Io);
    }
  }
  return std::unique_ptr<Map>(new Ringbuf(spec, std::move(*block), page, view));
}

}  // namespace userbpf::maps
