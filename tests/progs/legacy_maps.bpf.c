// Legacy map definitions (SEC("maps") with struct bpf_map_def, which libbpf 1.0
// dropped, so the struct is defined here), two socket filters in one section,
// string literals in .rodata.str1.1, and a static subprogram kept in the program
// section itself (called pc-relative without a relocation; libbpf refuses this
// object anyway, for its legacy maps).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") packet_count = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 2,
};

struct bpf_map_def SEC("maps") length_hist = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u32),
    .max_entries = 64,
    .map_flags = BPF_F_NO_PREALLOC,
};

static __noinline __attribute__((section("socket"))) void count(__u32 slot) {
  __u64 *v = bpf_map_lookup_elem(&packet_count, &slot);
  if (v) __sync_fetch_and_add(v, 1);
}

SEC("socket")
int count_short(struct __sk_buff *skb) {
  if (skb->len >= 64) return 0;
  count(0);
  /* A literal passed straight to the helper lands in .rodata.str1.1. */
  bpf_trace_printk("short packet %u\n", sizeof("short packet %u\n"), skb->len);
  return 0;
}

SEC("socket")
int count_long(struct __sk_buff *skb) {
  __u32 bucket = skb->len / 128;
  __u32 one = 1;
  if (skb->len < 64) return 0;
  count(1);
  __u32 *n = bpf_map_lookup_elem(&length_hist, &bucket);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&length_hist, &bucket, &one, BPF_ANY);
  bpf_printk("long packet %u in bucket %u", skb->len, bucket);
  return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
