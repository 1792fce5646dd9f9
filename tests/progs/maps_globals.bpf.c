// Per-source flow accounting: a hash map keyed by IPv4 source address, an array
// of packet-size buckets, and global variables in .rodata (configuration set
// before load), .data (initialised state) and .bss (zeroed counters).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define NUM_BUCKETS 4

struct flow_stats {
  __u64 packets;
  __u64 bytes;
  __u32 last_len;
  __u32 max_len;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct flow_stats);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, NUM_BUCKETS);
  __type(key, __u32);
  __type(value, __u64);
} size_buckets SEC(".maps");

const volatile __u32 bucket_width = 256;  /* .rodata */
const volatile __u32 drop_above = 0;      /* .rodata: 0 = never drop */
__u32 flows_seen = 0;                     /* .bss */
__u64 total_bytes = 0;                    /* .bss */
__u32 generation = 1;                     /* .data */

SEC("xdp")
int xdp_flow_stats(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u32 len = (__u32)(data_end - data);

  __u32 bucket = len / bucket_width;
  if (bucket >= NUM_BUCKETS) bucket = NUM_BUCKETS - 1;
  __u64 *count = bpf_map_lookup_elem(&size_buckets, &bucket);
  if (count) __sync_fetch_and_add(count, 1);
  __sync_fetch_and_add(&total_bytes, len);

  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  __u32 key = ip->saddr;
  struct flow_stats *st = bpf_map_lookup_elem(&flows, &key);
  if (!st) {
    struct flow_stats init = {.packets = 1, .bytes = len, .last_len = len, .max_len = len};
    if (bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST) == 0) flows_seen += generation;
    return XDP_PASS;
  }
  __sync_fetch_and_add(&st->packets, 1);
  __sync_fetch_and_add(&st->bytes, len);
  st->last_len = len;
  if (len > st->max_len) st->max_len = len;
  if (drop_above && st->packets > drop_above) return XDP_DROP;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
