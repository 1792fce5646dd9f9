// Callbacks and shared subprograms: bpf_loop and bpf_for_each_map_elem with
// static callbacks (ld_imm64 with BPF_PSEUDO_FUNC), two XDP programs in one
// section calling the same global and static subprograms, a variable in a
// custom .data.* section, and bpf_printk format strings in .rodata.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} totals SEC(".maps");

struct loop_ctx {
  __u64 sum;
  __u32 limit;
};

__u64 visits = 0;
char tag[8] SEC(".data.tags") = "cb";
const char greeting[] = "hello from callbacks";

static int add_index(__u32 index, void *data) {
  struct loop_ctx *c = data;
  c->sum += index * 3;
  return index + 1 >= c->limit ? 1 : 0;
}

static __u64 sum_elem(void *map, __u32 *key, __u64 *val, void *data) {
  *(__u64 *)data += *val + *key;
  visits++;
  return 0;
}

__noinline __u64 mix(__u64 a, __u64 b) {
  return (a * 31) ^ (b + tag[0]);
}

static __noinline __u32 clamp(__u32 v, __u32 hi) {
  return v > hi ? hi : v;
}

SEC("xdp")
int xdp_loop_cb(struct xdp_md *ctx) {
  struct loop_ctx c = {.sum = 0, .limit = clamp(ctx->rx_queue_index + 4, 16)};
  bpf_loop(16, add_index, &c, 0);
  __u32 key = clamp(ctx->rx_queue_index, 7) + 1;
  __u64 val = mix(c.sum, key);
  bpf_map_update_elem(&totals, &key, &val, BPF_ANY);
  bpf_printk("%s: sum %llu", greeting, c.sum);
  return XDP_PASS;
}

SEC("xdp")
int xdp_each_cb(struct xdp_md *ctx) {
  __u64 acc = 0;
  bpf_for_each_map_elem(&totals, sum_elem, &acc, 0);
  acc = mix(acc, clamp(ctx->ingress_ifindex, 100));
  bpf_printk("total %llu", acc);
  return acc & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
