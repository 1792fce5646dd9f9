// Per-CPU array counters: a byte histogram (64 buckets) of 64 payload bytes.
#include "bench_xdp.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} hist SEC(".maps");

SEC("xdp")
int map_percpu(struct xdp_md *ctx) {
  const __u8 *p = BENCH_PKT_DATA(ctx);
  const __u8 *end = BENCH_PKT_END(ctx);
  if (p + 128 > end) return 0;
  __u32 h = bk_le32(p + 124);
  for (__u32 i = 0; i < 64; i++) {
    __u32 idx = p[64 + i] & 63;
    __u64 *v = bpf_map_lookup_elem(&hist, &idx);
    if (!v) return 0;
    *v += 1;
    h = bk_mix(h, (__u32)*v + (idx << 16));
  }
  return (int)h;
}

char LICENSE[] SEC("license") = "GPL";
