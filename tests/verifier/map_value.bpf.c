// Map values: a pointer from bpf_map_lookup_elem covers exactly value_size bytes;
// every constant or variable offset into it must stay inside.
#include "corpus.h"

struct val {
  __u64 slot[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct val);
} values SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u64);
  __type(value, __u32);
} small SEC(".maps");

static __always_inline struct val *first(void) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&values, &key);
}

SEC("xdp")
int accept_map_value_const_index(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  v->slot[15] += 1;
  return v->slot[3] & 1;
}

// One slot past the end (offset 128 of a 128-byte value).
SEC("xdp")
int reject_map_value_const_oob(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  return *(volatile __u64 *)((char *)v + sizeof(*v));
}

// An 8-byte read starting at byte 124 crosses the end.
SEC("xdp")
int reject_map_value_straddles_end(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  return *(volatile __u64 *)((char *)v + 124);
}

SEC("xdp")
int accept_map_value_var_index_masked(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index & 15;
  v->slot[i] += 1;
  return XDP_PASS;
}

SEC("xdp")
int reject_map_value_var_index_unbounded(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  v->slot[i] += 1;
  return XDP_PASS;
}

SEC("xdp")
int accept_map_value_var_index_checked(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  if (i >= 16) return XDP_DROP;
  v->slot[i] += 1;
  return XDP_PASS;
}

// Off by one: i == 16 passes the check.
SEC("xdp")
int reject_map_value_var_index_off_by_one(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  if (i > 16) return XDP_DROP;
  v->slot[i] += 1;
  return XDP_PASS;
}

// A signed index with only an upper bound may be negative.
SEC("xdp")
int reject_map_value_negative_index(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  int i = (int)ctx->rx_queue_index;
  if (i >= 16) return XDP_DROP;
  v->slot[i] += 1;
  return XDP_PASS;
}

// A signed index with only a lower bound has no upper bound.
SEC("xdp")
int reject_map_value_missing_upper_bound(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  int i = (int)ctx->rx_queue_index;
  if (i < 0) return XDP_DROP;
  v->slot[i] += 1;
  return XDP_PASS;
}

SEC("xdp")
int accept_map_value_signed_both_bounds(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  int i = (int)ctx->rx_queue_index;
  if (i < 0 || i >= 16) return XDP_DROP;
  v->slot[i] += 1;
  return XDP_PASS;
}

// An index read from the map value itself, bounded before use.
SEC("xdp")
int accept_map_value_index_from_value(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u64 i = v->slot[0];
  if (i > 15) return XDP_DROP;
  return v->slot[i] ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int accept_map_update_from_stack(struct xdp_md *ctx) {
  __u64 key = ctx->ingress_ifindex;
  __u32 one = 1;
  __u32 *cnt = bpf_map_lookup_elem(&small, &key);
  if (cnt) {
    __sync_fetch_and_add(cnt, 1);
    return XDP_PASS;
  }
  bpf_map_update_elem(&small, &key, &one, BPF_NOEXIST);
  return XDP_PASS;
}

// The looked-up value is 4 bytes; reading 8 from it is out of bounds.
SEC("xdp")
int reject_map_value_wider_than_value(struct xdp_md *ctx) {
  __u64 key = 1;
  __u32 *cnt = bpf_map_lookup_elem(&small, &key);
  if (!cnt) return XDP_PASS;
  return *(volatile __u64 *)cnt != 0;
}

// A map value may be passed to a helper as memory of the right size.
SEC("xdp")
int accept_map_value_as_helper_key(struct xdp_md *ctx) {
  struct val *v = first();
  if (!v) return XDP_PASS;
  __u32 *cnt = bpf_map_lookup_elem(&small, &v->slot[2]);
  return cnt ? *cnt & 3 : XDP_PASS;
}
