// Array lookups: a 256-entry table (filled by user space) indexed by 128
// payload bytes.
#include "bench_xdp.h"
#include "flows.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, BENCH_ARRAY_ENTRIES);
  __type(key, __u32);
  __type(value, __u32);
} table SEC(".maps");

SEC("xdp")
int map_array(struct xdp_md *ctx) {
  const __u8 *p = BENCH_PKT_DATA(ctx);
  const __u8 *end = BENCH_PKT_END(ctx);
  if (p + 256 > end) return 0;
  __u32 h = bk_le32(p + 60);
  for (__u32 i = 0; i < 128; i++) {
    __u32 idx = p[128 + i];
    __u32 *v = bpf_map_lookup_elem(&table, &idx);
    if (!v) return 0;
    h = bk_mix(h, *v);
  }
  return (int)h;
}

char LICENSE[] SEC("license") = "GPL";
