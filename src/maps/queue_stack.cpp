// BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO) on one ring of
// max_entries + 1 slots (one slot stays empty to tell full from empty).
// Block layout:
//   [0, 64)   QsHeader (MapHeader, lock, head, tail)
//   [64, ...) slots of value_size bytes
// push writes at head; a queue takes from tail, a stack from head - 1.
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "maps/map_types.h"
#include "maps/shm_sync.h"

namespace userbpf::maps {
namespace {

constexpr uint64_t kSlotsOff = 64;
constexpr uint64_t kKmallocMaxSize = uint64_t{1} << 22;
constexpr uint32_t kQsCreateFlags =
    BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

struct QsHeader {
  MapHeader base;
  ShmSpinLock lock;
  uint32_t head, tail;  // slot indices in [0, max_entries]
};
static_assert(sizeof(QsHeader) <= kSlotsOff);

// queue_stack_map_alloc_check().
Result<uint64_t> check_spec(const MapSpec& spec) {
  const char* what = spec.type == static_cast<uint32_t>(MapType::Queue) ? "queue" : "stack";
  if (spec.max_entries == 0) return map_error(spec, std::string(what) + " map max_entries must be > 0");
  if (spec.key_size != 0) return map_error(spec, std::string(what) + " map key_size must be 0");
  if (spec.value_size == 0) return map_error(spec, std::string(what) + " map value_size must be > 0");
  if (spec.map_flags & ~kQsCreateFlags) return map_error(spec, std::string("invalid ") + what + " map flags");
  if (!map_flags_access_ok(spec.map_flags)) return map_error(spec, "conflicting read-only/write-only map flags");
  if (spec.value_size > kKmallocMaxSize) return map_error(spec, std::string(what) + " map value_size is too big (E2BIG)");
  const uint64_t size = kSlotsOff + (uint64_t{spec.max_entries} + 1) * spec.value_size;
  if (size > kMaxMapBlock) return map_error(spec, std::string(what) + " map is too big (E2BIG)");
  return size;
}

class QueueStack final : public Map {
 public:
  QueueStack(const MapSpec& spec, SharedBlock block)
      : Map(spec, std::move(block)),
        stack_(spec.type == static_cast<uint32_t>(MapType::Stack)),
        nslots_(uint64_t{spec.max_entries} + 1) {
    hdr_ = block_.at<QsHeader>(0);
  }

  void init() { init_map_header(&(new (block_.data()) QsHeader{})->base, spec_); }

  void* lookup(const void*) override { return nullptr; }
  long update(const void*, const void*, uint64_t) override { return -EINVAL; }
  long remove(const void*) override { return -EINVAL; }
  long get_next_key(const void*, void*) override { return -EINVAL; }

  // BPF_EXIST on a full map drops the oldest element (the tail) for both kinds.
  long push(const void* value, uint64_t flags) override {
    if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -EINVAL;
    ShmGuard g(hdr_->lock);
    if (next(hdr_->head) == hdr_->tail) {
      if (!(flags & BPF_EXIST)) return -E2BIG;
      hdr_->tail = next(hdr_->tail);
    }
    std::memcpy(slot(hdr_->head), value, spec_.value_size);
    hdr_->head = next(hdr_->head);
    return 0;
  }

  long pop(void* value) override { return take(value, true); }
  long peek(void* value) override { return take(value, false); }

  // The bpf(2) side: BPF_MAP_LOOKUP_ELEM peeks, BPF_MAP_UPDATE_ELEM pushes.
  long sys_lookup(const void*, void* value) override { return peek(value); }
  long sys_update(const void*, const void* value, uint64_t flags) override { return push(value, flags); }

  std::vector<Span> program_memory() const override { return {}; }

 private:
  uint32_t next(uint32_t i) const { return static_cast<uint32_t>((uint64_t{i} + 1) % nslots_); }
  uint8_t* slot(uint32_t i) const { return block_.data() + kSlotsOff + uint64_t{i} * spec_.value_size; }

  long take(void* value, bool remove_it) {
    ShmGuard g(hdr_->lock);
    if (hdr_->head == hdr_->tail) return -ENOENT;
    if (!stack_) {
      std::memcpy(value, slot(hdr_->tail), spec_.value_size);
      if (remove_it) hdr_->tail = next(hdr_->tail);
    } else {
      const uint32_t top = hdr_->head == 0 ? static_cast<uint32_t>(nslots_ - 1) : hdr_->head - 1;
      std::memcpy(value, slot(top), spec_.value_size);
      if (remove_it) hdr_->head = top;
    }
    return 0;
  }

  bool stack_;
  uint64_t nslots_;
  QsHeader* hdr_;
};

}  // namespace

Result<std::unique_ptr<Map>> make_queue_stack(const MapSpec& spec) {
  auto size = check_spec(spec);
  if (!size) return size.error();
  auto block = SharedBlock::create(*size, spec.name);
  if (!block) return map_error(spec, block.error().message, block.error().kind);
  auto m = std::make_unique<QueueStack>(spec, std::move(*block));
  m->init();
  return std::unique_ptr<Map>(std::move(m));
}

Result<std::unique_ptr<Map>> attach_queue_stack(const MapSpec& spec, SharedBlock block) {
  auto size = check_spec(spec);
  if (!size) return size.error();
  if (auto st = check_map_header(block, spec, *size); !st) return st.error();
  return std::unique_ptr<Map>(new QueueStack(spec, std::move(block)));
}

}  // namespace userbpf::maps
