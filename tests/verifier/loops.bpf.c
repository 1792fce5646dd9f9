// Loops: a back edge is fine as long as every path through the loop ends within
// the complexity limit (1M processed instructions).  A loop whose bound the
// verifier cannot see is walked until the limit; a loop with no way out is an
// "infinite loop".
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} limits SEC(".maps");

SEC("xdp")
int accept_loop_bounded_64(struct xdp_md *ctx) {
  __u32 sum = 0;
#pragma clang loop unroll(disable)
  for (__u32 i = 0; i < 64; i++) sum += i ^ ctx->rx_queue_index;
  return sum & 3;
}

SEC("xdp")
int accept_loop_with_break(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  __u32 sum = 0;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 128; i++) {
    if (data + i + 1 > data_end) break;
    sum += data[i];
  }
  return sum > 1000 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int accept_loop_nested(struct xdp_md *ctx) {
  __u64 acc = ctx->rx_queue_index;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 16; i++)
#pragma clang loop unroll(disable)
    for (int j = 0; j < 16; j++) acc = acc * 31 + (i ^ j);
  return acc & 3;
}

// The bound comes from a map value with no cap: every iteration is a new state.
SEC("xdp")
int reject_loop_bound_from_map(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *n = bpf_map_lookup_elem(&limits, &key);
  if (!n) return XDP_PASS;
  __u64 acc = 0;
#pragma clang loop unroll(disable)
  for (__u64 i = 0; i < *n; i++) acc = acc * 7 + i;
  return acc & 3;
}

// The same loop with the map value capped.
SEC("xdp")
int accept_loop_bound_from_map_capped(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *n = bpf_map_lookup_elem(&limits, &key);
  if (!n) return XDP_PASS;
  __u64 limit = *n;
  if (limit > 100) limit = 100;
  __u64 acc = 0;
#pragma clang loop unroll(disable)
  for (__u64 i = 0; i < limit; i++) acc = acc * 7 + i;
  return acc & 3;
}

// No exit at all: the state at the back edge equals the one before.
SEC("xdp")
int reject_loop_forever(struct xdp_md *ctx) {
  volatile int spin = 0;
  if (ctx->rx_queue_index == 12345)
    for (;;) spin;
  return XDP_PASS;
}

// The counter is reset every iteration, so the loop never makes progress.
SEC("xdp")
__naked int reject_loop_counter_reset(void) {
  asm volatile("r0 = 0;"
               "1: r0 = 0;"
               "r0 += 1;"
               "if r0 < 10 goto 1b;"
               "exit;" ::: __clobber_all);
}

// A constant bound, but a million iterations: the walk goes past the limit of a
// million processed instructions.
SEC("xdp")
int reject_loop_too_many_iterations(struct xdp_md *ctx) {
  __u64 acc = 0;
  __u32 n = ctx->rx_queue_index;
#pragma clang loop unroll(disable)
  for (__u32 i = 0; i < 1000000; i++) {
    acc = acc * 3 + (i ^ n);
  }
  return acc & 3;
}

SEC("xdp")
int accept_loop_while_in_packet(struct xdp_md *ctx) {
  unsigned char *p = (void *)(long)ctx->data;
  unsigned char *data_end = (void *)(long)ctx->data_end;
  int hops = 0;
  // Walk TLV-like bytes: each byte says how far to skip; at most 16 hops.
#pragma clang loop unroll(disable)
  while (hops < 16) {
    if (p + 1 > data_end) break;
    p += (*p & 7) + 1;
    hops++;
  }
  return hops & 3;
}
