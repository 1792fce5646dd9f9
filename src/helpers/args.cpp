// Argument checking shared by the helpers: program memory extents, strings in
// program memory and map handles.  Helpers are the last line of defence before
// the verifier exists: nothing a program passes is dereferenced unchecked.
#include <linux/bpf.h>

#include <cstring>

#include "helpers/helpers_internal.h"

namespace userbpf::helpers::detail {
namespace {

// Inner maps handed out by map-in-map lookups on this thread.  The id is kept
// so that a map destroyed since (and its address reused) is not taken for live.
struct InnerMap {
  uint64_t ptr = 0;
  uint32_t id = 0;
};
constexpr size_t kInnerCache = 32;
thread_local InnerMap t_inner[kInnerCache];
thread_local size_t t_inner_next = 0;

maps::Map* object_map(const vm::ExecContext* ctx, uint64_t r) {
  const runtime::RunState* st = run_state(ctx);
  if (!st || !st->object) return nullptr;
  const runtime::Object& obj = *st->object;
  for (size_t i = 0; i < obj.num_maps(); ++i)
    if (reinterpret_cast<uint64_t>(obj.map(i)) == r && r != 0) return obj.map(i);
  return nullptr;
}

bool is_hash_or_array(uint32_t t) {
  switch (static_cast<maps::MapType>(t)) {
    case maps::MapType::Hash:
    case maps::MapType::PercpuHash:
    case maps::MapType::LruHash:
    case maps::MapType::LruPercpuHash:
    case maps::MapType::Array:
    case maps::MapType::PercpuArray: return true;
    default: return false;
  }
}

}  // namespace

uint64_t accessible_extent(const vm::ExecContext& ctx, uint64_t addr, bool write) {
  if (addr >= ctx.stack_lo && addr < ctx.stack_hi) return ctx.stack_hi - addr;
  for (const vm::Region& r : ctx.regions)
    if (addr >= r.start && addr - r.start < r.size && (r.writable || !write)) return r.size - (addr - r.start);
  return 0;
}

bool program_cstr(const vm::ExecContext* ctx, uint64_t addr, uint64_t max, std::string_view& out) {
  const uint64_t extent = accessible_extent(*ctx, addr, false);
  if (extent == 0) return false;
  const uint64_t limit = extent < max + 1 ? extent : max + 1;
  const char* p = reinterpret_cast<const char*>(addr);
  const void* nul = std::memchr(p, 0, limit);
  if (!nul) return false;
  out = std::string_view(p, static_cast<size_t>(static_cast<const char*>(nul) - p));
  return true;
}

maps::Map* map_arg(vm::ExecContext* ctx, uint64_t r) {
  if (maps::Map* m = object_map(ctx, r)) return m;
  if (r == 0) return nullptr;
  for (const InnerMap& e : t_inner)
    if (e.ptr == r) {
      // Only the id is trusted: the registry says whether that map still lives here.
      maps::Map* live = maps::map_by_id(e.id);
      return reinterpret_cast<uint64_t>(live) == r ? live : nullptr;
    }
  return nullptr;
}

void note_inner_map(vm::ExecContext* ctx, maps::Map* m) {
  const uint64_t r = reinterpret_cast<uint64_t>(m);
  if (!m || object_map(ctx, r)) return;  // the object's maps are known and mapped already
  bool cached = false;
  for (InnerMap& e : t_inner)
    if (e.ptr == r) {
      e.id = m->id();
      cached = true;
    }
  if (!cached) {
    t_inner[t_inner_next] = InnerMap{r, m->id()};
    t_inner_next = (t_inner_next + 1) % kInnerCache;
  }
  // A map made outside the object: let the program reach the values it hands out.
  for (const maps::Map::Span& s : m->program_memory()) {
    bool present = false;
    for (const vm::Region& reg : ctx->regions) present |= reg.start == s.start && reg.size == s.size;
    if (!present) ctx->regions.push_back(vm::Region{s.start, s.size, s.writable, "inner map"});
  }
}

bool map_func_compatible(uint32_t t, int32_t f) {
  using maps::MapType;
  switch (static_cast<MapType>(t)) {
    case MapType::ProgArray: return f == BPF_FUNC_tail_call;
    case MapType::PerfEventArray:
      return f == BPF_FUNC_perf_event_output || f == BPF_FUNC_perf_event_read ||
             f == BPF_FUNC_perf_event_read_value || f == BPF_FUNC_skb_output || f == BPF_FUNC_xdp_output;
    case MapType::Ringbuf:
      return f == BPF_FUNC_ringbuf_output || f == BPF_FUNC_ringbuf_reserve || f == BPF_FUNC_ringbuf_query;
    case MapType::ArrayOfMaps:
    case MapType::HashOfMaps: return f == BPF_FUNC_map_lookup_elem;
    case MapType::Queue:
    case MapType::Stack:
      return f == BPF_FUNC_map_peek_elem || f == BPF_FUNC_map_pop_elem || f == BPF_FUNC_map_push_elem;
    case MapType::BloomFilter: return f == BPF_FUNC_map_peek_elem || f == BPF_FUNC_map_push_elem;
    default: break;
  }
  switch (f) {
    case BPF_FUNC_tail_call:
    case BPF_FUNC_perf_event_output:
    case BPF_FUNC_ringbuf_output:
    case BPF_FUNC_ringbuf_reserve:
    case BPF_FUNC_ringbuf_query:
    case BPF_FUNC_map_peek_elem:
    case BPF_FUNC_map_pop_elem:
    case BPF_FUNC_map_push_elem: return false;
    case BPF_FUNC_for_each_map_elem: return is_hash_or_array(t);
    default: return true;
  }
}

}  // namespace userbpf::helpers::detail
