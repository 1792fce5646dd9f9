// Ring buffer reservations are references: every path must submit or discard
// the record exactly once, nothing may touch it afterwards, and the reserved size
// must be a known constant so every access can be bounded.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} not_ringbuf SEC(".maps");

struct event {
  __u32 len;
  __u32 ifindex;
  __u64 stamp;
};

SEC("xdp")
int accept_ringbuf_reserve_submit(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->len = ctx->data_end - ctx->data;
  e->ifindex = ctx->ingress_ifindex;
  e->stamp = bpf_ktime_get_ns();
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

SEC("xdp")
int accept_ringbuf_submit_or_discard(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->ifindex = ctx->ingress_ifindex;
  if (e->ifindex == 1)
    bpf_ringbuf_discard(e, 0);
  else
    bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

// Submitted only when the interface matches: the other path leaks the record.
SEC("xdp")
int reject_ringbuf_leak_on_path(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->ifindex = ctx->ingress_ifindex;
  if (ctx->rx_queue_index == 0) bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

SEC("xdp")
int reject_ringbuf_double_submit(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->ifindex = ctx->ingress_ifindex;
  bpf_ringbuf_submit(e, 0);
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

SEC("xdp")
int reject_ringbuf_use_after_submit(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  bpf_ringbuf_submit(e, 0);
  *(volatile __u32 *)&e->ifindex = ctx->ingress_ifindex;
  return XDP_PASS;
}

SEC("xdp")
int reject_ringbuf_no_null_check(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  e->ifindex = ctx->ingress_ifindex;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

SEC("xdp")
int reject_ringbuf_reserve_nonconst_size(struct xdp_md *ctx) {
  __u32 size = (ctx->rx_queue_index & 63) + 8;
  __u64 *e = bpf_ringbuf_reserve(&events, size, 0);
  if (!e) return XDP_PASS;
  *e = 1;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

// 16 bytes reserved, 8 written at offset 16.
SEC("xdp")
int reject_ringbuf_write_past_record(struct xdp_md *ctx) {
  __u64 *e = bpf_ringbuf_reserve(&events, 16, 0);
  if (!e) return XDP_PASS;
  ((volatile __u64 *)e)[2] = 1;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

SEC("xdp")
int reject_ringbuf_reserve_wrong_map(struct xdp_md *ctx) {
  __u64 *e = bpf_ringbuf_reserve(&not_ringbuf, 8, 0);
  if (!e) return XDP_PASS;
  *e = 1;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}

// Submitting something that was never reserved (a stack pointer).
SEC("xdp")
int reject_ringbuf_submit_stack_ptr(struct xdp_md *ctx) {
  __u64 v = ctx->ingress_ifindex;
  bpf_ringbuf_submit(&v, 0);
  return XDP_PASS;
}

SEC("xdp")
int accept_ringbuf_output_from_stack(struct xdp_md *ctx) {
  struct event e = {.len = ctx->data_end - ctx->data, .ifindex = ctx->ingress_ifindex};
  bpf_ringbuf_output(&events, &e, sizeof(e), 0);
  return XDP_PASS;
}

// The reservation handed to a static subprogram which submits it.
static __noinline void finish(struct event *e) { bpf_ringbuf_submit(e, 0); }

SEC("xdp")
int accept_ringbuf_submit_in_subprog(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->ifindex = ctx->ingress_ifindex;
  finish(e);
  return XDP_PASS;
}
