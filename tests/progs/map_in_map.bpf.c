// Map-in-map: an array of maps and a hash of maps whose inner map template is
// declared with __array(values, ...), the array statically initialised with two
// inner maps; plus a tracepoint and an fentry-less kprobe to cover section types.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 3);
  __type(key, __u32);
  __array(values, struct inner);
} outer_array SEC(".maps") = {
    .values = {[0] = &inner_a, [2] = &inner_b},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 8);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u32);
  __array(values, struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u64);
    __type(value, __u32);
  });
} outer_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} events SEC(".maps");

SEC("xdp")
int xdp_select(struct xdp_md *ctx) {
  __u32 which = ctx->rx_queue_index % 3, slot = 0;
  void *inner = bpf_map_lookup_elem(&outer_array, &which);
  if (!inner) return XDP_PASS;
  __u64 *v = bpf_map_lookup_elem(inner, &slot);
  if (v) __sync_fetch_and_add(v, 1);
  __u32 key = ctx->ingress_ifindex;
  void *h = bpf_map_lookup_elem(&outer_hash, &key);
  if (h) {
    __u64 k = ctx->data;
    __u32 *c = bpf_map_lookup_elem(h, &k);
    if (c) *c += 1;
  }
  return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int tp_getpid(void *ctx) {
  __u32 *e = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
  if (!e) return 0;
  *e = bpf_get_current_pid_tgid() >> 32;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("kprobe/do_nanosleep")
int kprobe_sleep(void *ctx) {
  __u32 slot = 1, idx = 0;
  void *inner = bpf_map_lookup_elem(&outer_array, &idx);
  if (inner) {
    __u64 *v = bpf_map_lookup_elem(inner, &slot);
    if (v) __sync_fetch_and_add(v, 1);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
