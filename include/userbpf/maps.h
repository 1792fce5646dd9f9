// eBPF maps with the kernel's semantics (linux/bpf.h map types, update flags, errno
// results).  Every map keeps all of its state — header, locks, elements — inside
// one shared-memory block (a memfd mapping) and refers to its own parts by offsets,
// never by pointers, so that another process mapping the same memfd (a probed
// process and the CLI) sees and updates the same map.  Maps are safe to use from
// many threads (and processes) at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "userbpf/result.h"

namespace userbpf::maps {

// Values of enum bpf_map_type (linux/bpf.h).
enum class MapType : uint32_t {
  Hash = 1,
  Array = 2,
  ProgArray = 3,
  PerfEventArray = 4,
  PercpuHash = 5,
  PercpuArray = 6,
  LruHash = 9,
  LruPercpuHash = 10,
  LpmTrie = 11,
  ArrayOfMaps = 12,
  HashOfMaps = 13,
  Queue = 22,
  Stack = 23,
  Ringbuf = 27,
  BloomFilter = 30,
};
const char* map_type_name(uint32_t type);  // "hash", "array", ... as bpftool prints them

struct MapSpec {
  std::string name;
  uint32_t type = 0;  // MapType value
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t map_flags = 0;
  uint64_t map_extra = 0;        // bloom filter: number of hash functions (low 4 bits)
  int32_t inner_map_index = -1;  // map-in-map: template map (index in the owning object)
  uint32_t pinning = 0;          // LIBBPF_PIN_* from BTF-defined maps
  uint32_t btf_key_type_id = 0, btf_value_type_id = 0;  // for pretty printing, 0 when absent
  // Map-in-map: the inner map template (what the kernel takes as inner_map_fd).
  // Inner maps must match its type, key/value size, flags and (without
  // BPF_F_INNER_MAP) max_entries.  nullptr: any map that is not itself map-in-map.
  std::shared_ptr<const MapSpec> inner;
};

// A shared-memory block: a memfd mapped MAP_SHARED.  Offsets inside it are stable
// across processes; pointers are not.
class SharedBlock {
 public:
  static Result<SharedBlock> create(size_t size, const std::string& name);
  // Map an existing block (e.g. a map's fd received from another process) a
  // second time; fd is dup'ed, the caller keeps its own.
  static Result<SharedBlock> attach(int fd);
  SharedBlock() = default;
  SharedBlock(SharedBlock&&) noexcept;
  SharedBlock& operator=(SharedBlock&&) noexcept;
  ~SharedBlock();
  uint8_t* data() const { return base_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }
  template <typename T>
  T* at(uint64_t off) const { return reinterpret_cast<T*>(base_ + off); }

 private:
  // Maps `fd` (which the block then owns; closed on failure).
  static Result<SharedBlock> map_owned_fd(int fd, size_t len, int extra_flags, const std::string& what);
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
};

// Number of "CPUs" per-CPU maps keep values for (libbpf_num_possible_cpus()), and
// the slot the calling thread uses (sched_getcpu()).
int num_possible_cpus();
int current_cpu();

class Map {
 public:
  virtual ~Map();
  const MapSpec& spec() const { return spec_; }
  uint32_t type() const { return spec_.type; }

  // ---- program side (helpers): kernel helper semantics, 0 or -errno ----
  // Pointer to the value in map storage (this CPU's slot for per-CPU maps), nullptr
  // when absent.  The pointer stays valid while the map lives (elements are
  // preallocated, as the kernel does for maps without BPF_F_NO_PREALLOC).
  virtual void* lookup(const void* key) = 0;
  virtual long update(const void* key, const void* value, uint64_t flags) = 0;
  virtual long remove(const void* key) = 0;
  // Queue / stack / bloom filter (push = map_push_elem, peek on bloom = contains).
  virtual long push(const void* value, uint64_t flags);
  virtual long pop(void* value);
  virtual long peek(void* value);

  // ---- user-space side (the bpf(2) commands): values are copied; per-CPU maps
  // take/return num_possible_cpus() values, each rounded up to 8 bytes ----
  virtual long sys_lookup(const void* key, void* value);
  virtual long sys_update(const void* key, const void* value, uint64_t flags);
  virtual long sys_delete(const void* key) { return remove(key); }
  // key == nullptr asks for the first key; -ENOENT after the last.
  virtual long get_next_key(const void* key, void* next_key) = 0;
  // Size of one value as the user-space side sees it (per-CPU: all CPUs).
  size_t sys_value_size() const;

  // Memory a program may touch through pointers this map hands out (values,
  // ringbuf records), for the checked interpreter's region list.
  struct Span {
    uintptr_t start;
    size_t size;
    bool writable;
  };
  virtual std::vector<Span> program_memory() const = 0;

  // The shared block holding the whole map (fd for sharing with another process).
  const SharedBlock& block() const { return block_; }

  // Process-wide id (like the kernel's map id): map-in-map values and prog_array
  // entries refer to maps and programs by id, since pointers do not survive
  // being shared between processes.
  uint32_t id() const { return id_; }

  // Arrays (plain and per-CPU) answer lookups without a virtual call (the
  // kernel inlines the same computation for verified programs).
  bool is_array() const { return array_values_ != nullptr; }
  // is_array(): where the elements live (for code that computes array_lookup in line).
  uint8_t* array_values() const { return array_values_; }
  uint64_t array_stride() const { return array_stride_; }
  uint64_t array_cpu_stride() const { return array_cpu_stride_; }
  // is_array(): this CPU's value of element idx, nullptr when idx >= max_entries.
  uint8_t* array_lookup(uint32_t idx) const {
    if (idx >= spec_.max_entries) return nullptr;
    uint8_t* v = array_values_ + idx * array_stride_;
    if (array_cpu_stride_) v += static_cast<uint64_t>(current_cpu()) * array_cpu_stride_;
    return v;
  }

 protected:
  Map(MapSpec spec, SharedBlock block);
  MapSpec spec_;
  SharedBlock block_;
  uint32_t id_ = 0;
  uint8_t* array_values_ = nullptr;
  uint64_t array_stride_ = 0;
  uint64_t array_cpu_stride_ = 0;
};

// BPF_MAP_TYPE_RINGBUF (create_map returns one for that type): the ring buffer
// helpers with kernel semantics, and the user-space consumer.
class RingbufMap : public Map {
 public:
  virtual long output(const void* data, uint64_t size, uint64_t flags) = 0;  // bpf_ringbuf_output: 0/-EAGAIN/-EINVAL
  virtual void* reserve(uint64_t size, uint64_t flags) = 0;                   // bpf_ringbuf_reserve: nullptr on failure
  virtual void submit(void* sample, uint64_t flags) = 0;                      // bpf_ringbuf_submit
  virtual void discard(void* sample, uint64_t flags) = 0;                     // bpf_ringbuf_discard
  virtual uint64_t query(uint64_t flags) const = 0;                           // bpf_ringbuf_query (BPF_RB_*)
  // Single consumer: calls cb for each committed record in order (discarded ones
  // skipped), stops at a record still being written.  A negative cb result stops
  // and is returned; otherwise the number of records handed to cb.
  virtual long consume(const std::function<int(const void* data, uint32_t size)>& cb) = 0;

 protected:
  using Map::Map;
};

// BPF_MAP_TYPE_PERF_EVENT_ARRAY: no perf events in user space, so each index
// (CPU) has a bounded record buffer in the map's block.  Slots start empty, as
// in the kernel; a consumer installs one with sys_update (any value) before
// programs can output to it.
class PerfEventArrayMap : public Map {
 public:
  static constexpr uint32_t kBufferBytes = 64 * 1024;  // per index
  // bpf_perf_event_output: flags & BPF_F_INDEX_MASK picks the index
  // (BPF_F_CURRENT_CPU: current_cpu()); 0, -EINVAL, -E2BIG, -ENOENT (slot
  // empty) or -ENOSPC (buffer full: the record is lost and counted).
  virtual long output(uint64_t flags, const void* data, uint64_t size) = 0;
  // Single consumer per index.  cb gets each record as libbpf's perf buffer
  // hands it out: size rounded so that size + 4 is a multiple of 8, zero padded.
  // Return value as RingbufMap::consume.
  virtual long consume(uint32_t index, const std::function<int(const void* data, uint32_t size)>& cb) = 0;
  virtual uint64_t lost(uint32_t index) const = 0;  // records dropped so far

 protected:
  using Map::Map;
};

// BPF_MAP_TYPE_PROG_ARRAY and BPF_MAP_TYPE_ARRAY_OF_MAPS: slots hold program
// ids resp. map ids (0 = empty).
class IdArrayMap : public Map {
 public:
  virtual uint32_t id_at(uint32_t index) const = 0;  // 0 when empty or out of range

 protected:
  using Map::Map;
};

// The live map with this id in this process, nullptr when none.
Map* map_by_id(uint32_t id);

// Validates the spec as the kernel's map_create does (sizes, flags, max_entries)
// and creates the map.  Errors are ErrorKind::InvalidArgument / Unsupported with
// the kernel's reason ("hash map key_size must be > 0", ...).
Result<std::unique_ptr<Map>> create_map(const MapSpec& spec);

// A second Map object over an existing map's block (its fd, e.g. from another
// process); both see and change the same elements.  The spec must be the one the
// map was created with.  Supported for array, hash (all four), bloom filter,
// queue and stack maps; others return ErrorKind::Unsupported.
Result<std::unique_ptr<Map>> attach_map(const MapSpec& spec, int fd);

}  // namespace userbpf::maps
