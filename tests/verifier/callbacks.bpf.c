// Callbacks (bpf_loop, bpf_for_each_map_elem): the callback is verified as a
// subprogram with the argument types the helper promises; it must return a value
// in [0, 1] and keep to the memory it is given.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

struct loop_ctx {
  __u64 sum;
  __u64 *slots;  // a map value of 8 bytes
};

static int add_index(__u32 index, void *data) {
  struct loop_ctx *c = data;
  c->sum += index;
  return 0;
}

SEC("xdp")
int accept_bpf_loop_sum(struct xdp_md *ctx) {
  struct loop_ctx c = {};
  bpf_loop(100, add_index, &c, 0);
  return c.sum & 3;
}

static int stop_at_ten(__u32 index, void *data) {
  *(__u64 *)data = index;
  return index >= 10 ? 1 : 0;
}

SEC("xdp")
int accept_bpf_loop_early_stop(struct xdp_md *ctx) {
  __u64 last = 0;
  bpf_loop(ctx->rx_queue_index, stop_at_ten, &last, 0);
  return last & 3;
}

// Return values other than 0 (continue) and 1 (stop) are refused.
static int returns_two(__u32 index, void *data) { return 2; }

SEC("xdp")
int reject_bpf_loop_callback_returns_2(struct xdp_md *ctx) {
  __u64 unused = 0;
  bpf_loop(4, returns_two, &unused, 0);
  return XDP_PASS;
}

// The loop index is an unknown u32 inside the callback, whatever nr_loops says.
static int index_value(__u32 index, void *data) {
  struct loop_ctx *c = data;
  c->sum += ((volatile __u8 *)c->slots)[index];
  return 0;
}

SEC("xdp")
int reject_bpf_loop_callback_oob(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counters, &key);
  if (!v) return XDP_PASS;
  struct loop_ctx c = {.slots = v};
  bpf_loop(8, index_value, &c, 0);
  return c.sum & 3;
}

static int index_masked(__u32 index, void *data) {
  struct loop_ctx *c = data;
  c->sum += ((volatile __u8 *)c->slots)[index & 7];
  return 0;
}

SEC("xdp")
int accept_bpf_loop_callback_masked(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counters, &key);
  if (!v) return XDP_PASS;
  struct loop_ctx c = {.slots = v};
  bpf_loop(8, index_masked, &c, 0);
  return c.sum & 3;
}

// The callback may not go past the caller's context object: data points to an
// 8-byte stack slot, the callback reads 8 bytes at offset 8.
static int past_ctx(__u32 index, void *data) {
  return ((volatile __u64 *)data)[1] & 1;
}

SEC("xdp")
__naked int reject_bpf_loop_callback_reads_past_stack(void) {
  asm volatile("r1 = 0;"
               "*(u64 *)(r10 - 8) = r1;"
               "r1 = 1;"
               "r2 = %[past_ctx] ll;"
               "r3 = r10;"
               "r3 += -8;"
               "r4 = 0;"
               "call %[bpf_loop];"
               "r0 = 2;"
               "exit;"
               :
               : __imm_addr(past_ctx), __imm(bpf_loop)
               : __clobber_all);
}

static __u64 sum_elem(void *map, __u32 *key, __u64 *val, void *data) {
  *(__u64 *)data += *val + *key;
  return 0;
}

SEC("xdp")
int accept_for_each_map_elem(struct xdp_md *ctx) {
  __u64 total = 0;
  bpf_for_each_map_elem(&counters, sum_elem, &total, 0);
  return total & 3;
}

// The element callback's value pointer covers value_size bytes (8).
static __u64 read_past_value(void *map, __u32 *key, __u64 *val, void *data) {
  *(__u64 *)data += val[1];
  return 0;
}

SEC("xdp")
int reject_for_each_value_oob(struct xdp_md *ctx) {
  __u64 total = 0;
  bpf_for_each_map_elem(&counters, read_past_value, &total, 0);
  return total & 3;
}

// The key is read-only.
static __u64 write_key(void *map, __u32 *key, __u64 *val, void *data) {
  *(volatile __u32 *)key = 0;
  return 0;
}

SEC("xdp")
int reject_for_each_writes_key(struct xdp_md *ctx) {
  __u64 total = 0;
  bpf_for_each_map_elem(&counters, write_key, &total, 0);
  return total & 3;
}

// The value is writable (array maps).
static __u64 bump_value(void *map, __u32 *key, __u64 *val, void *data) {
  *val += 1;
  return 0;
}

SEC("xdp")
int accept_for_each_writes_value(struct xdp_md *ctx) {
  __u64 unused = 0;
  bpf_for_each_map_elem(&counters, bump_value, &unused, 0);
  return XDP_PASS;
}

// A callback that is a plain pointer rather than a function.
SEC("xdp")
__naked int reject_bpf_loop_callback_not_func(void) {
  asm volatile("r1 = 1;"
               "r2 = r10;"
               "r2 += -8;"
               "r3 = 0;"
               "r4 = 0;"
               "call %[bpf_loop];"
               "r0 = 2;"
               "exit;"
               :
               : __imm(bpf_loop)
               : __clobber_all);
}
