// Array and per-CPU array lookups with the key taken from the packet, so that
// the same program looks up elements in range and past the end; the JIT
// computes these lookups in line for verified programs.  The result says
// which lookups found an element; found elements are counted in the maps.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 5);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct wide {
  __u64 hits;
  __u32 last;
  __u8 pad[13];  // an odd element size: the stride is not a power of two
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, struct wide);
} wides SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} pcpu SEC(".maps");

SEC("xdp")
int array_lookup(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u8 *p = data;
  if (p + 3 > (__u8 *)data_end) return XDP_ABORTED;
  int found = 0;
  __u32 k = p[0];
  __u64 *c = bpf_map_lookup_elem(&counts, &k);
  if (c) {
    *c += 1;
    found |= 1;
  }
  k = p[1];
  struct wide *w = bpf_map_lookup_elem(&wides, &k);
  if (w) {
    w->hits += 1;
    w->last = p[2];
    found |= 2;
  }
  k = p[2];
  __u64 *v = bpf_map_lookup_elem(&pcpu, &k);
  if (v) {
    *v += k + 1;
    found |= 4;
  }
  return found;
}

char LICENSE[] SEC("license") = "GPL";
