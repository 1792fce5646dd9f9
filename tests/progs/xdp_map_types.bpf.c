// Every map type a packet program can use, driven by packet bytes so that a
// sequence of packets walks different paths: per-CPU array / hash, LRU hash (plain
// and per-CPU), LPM trie (prefixes from .rodata inserted on the first run),
// queue, stack, bloom filter, ring buffer, perf event array, array / hash of
// maps (statically initialised) and a hash updated with BPF_NOEXIST / BPF_EXIST.
// Every helper's return code goes into res[] (a .bss array, copied over the UDP
// payload when it is long enough), so any difference from the kernel shows in
// the output packet and in the maps.
//
// UDP payload control bytes (read before res[] overwrites them):
//   c[0] key selector, c[1] operation bits (OP_*), c[2] value, c[3] LPM prefix.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define OP_NOEXIST 0x01    // flagged: update BPF_NOEXIST
#define OP_EXIST 0x02      // flagged: update BPF_EXIST
#define OP_DELETE 0x04     // flagged: delete
#define OP_PUSH 0x08       // queue / stack push
#define OP_POP 0x10        // queue / stack pop
#define OP_RB_BIG 0x20     // ring buffer: fill it up
#define OP_LPM_DEL 0x40    // LPM trie: delete the selected prefix
#define OP_LRU_DEL 0x80    // LRU hashes: delete the key

#define NUM_RES 48

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} pcpu_count SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} pcpu_bytes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 32);
  __type(key, __u32);
  __type(value, __u64);
} lru SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, 32);
  __type(key, __u32);
  __type(value, __u64);
} lru_pcpu SEC(".maps");

struct lpm_key {
  __u32 prefixlen;
  __u8 addr[4];
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 16);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct lpm_key);
  __type(value, __u32);
} lpm SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_QUEUE);
  __uint(max_entries, 4);
  __type(value, __u32);
} queue SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK);
  __uint(max_entries, 4);
  __type(value, __u32);
} stack SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 256);
  __type(value, __u32);
} bloom SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} rb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} perf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} flagged SEC(".maps");

struct inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner);
} outer_arr SEC(".maps") = {
    .values = {[1] = &inner_a, [3] = &inner_b},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner);
} outer_hash SEC(".maps") = {
    .values = {[0] = &inner_b, [2] = &inner_a},
};

struct prefix {
  __u32 len;
  __u8 addr[4];
  __u32 val;
};
#define NUM_PREFIXES 8
const volatile struct prefix prefixes[NUM_PREFIXES] = {
    {8, {10, 0, 0, 0}, 1},     {24, {10, 0, 0, 0}, 2},  {16, {192, 168, 0, 0}, 3}, {32, {192, 168, 1, 2}, 4},
    {0, {0, 0, 0, 0}, 5},      {12, {172, 16, 0, 0}, 6}, {31, {10, 0, 0, 0}, 7},   {25, {192, 168, 1, 128}, 8},
};

__s64 res[NUM_RES];
__u32 lpm_ready;
__u64 big_buf[256];  // ringbuf_output source larger than the stack

static __always_inline __s64 lpm_find(__u32 addr) {
  struct lpm_key k = {.prefixlen = 32};
  __builtin_memcpy(k.addr, &addr, 4);
  __u32 *v = bpf_map_lookup_elem(&lpm, &k);
  return v ? *v : -1;
}

static __always_inline void lpm_key_of(struct lpm_key *k, __u32 i) {
  asm volatile("%0 &= 7" : "+r"(i));  // keep the bound visible to the verifier
  k->prefixlen = prefixes[i].len;
  k->addr[0] = prefixes[i].addr[0];
  k->addr[1] = prefixes[i].addr[1];
  k->addr[2] = prefixes[i].addr[2];
  k->addr[3] = prefixes[i].addr[3];
}

static __always_inline __s64 inner_op(void *outer, __u32 okey, __u32 ikey, __u64 add) {
  void *inner = bpf_map_lookup_elem(outer, &okey);
  if (!inner) return -1000;
  __u64 *v = bpf_map_lookup_elem(inner, &ikey);
  if (!v) return -2000 + bpf_map_update_elem(inner, &ikey, &add, BPF_ANY);
  *v += add;
  return *v;
}

SEC("xdp")
int xdp_map_types(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  __u32 cls = 0;

  if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) cls = 3;
  else if (ip->protocol != IPPROTO_UDP || ip->ihl != 5) cls = 2;
  __u64 *cnt = bpf_map_lookup_elem(&pcpu_count, &cls);
  if (cnt) *cnt += 1;
  if (cls) {
    cls = 1;
    cnt = bpf_map_lookup_elem(&pcpu_count, &cls);
    if (cnt) *cnt += data_end - data;
    return XDP_PASS;
  }
  struct udphdr *udp = (void *)(ip + 1);
  __u8 *c = (void *)(udp + 1);
  if ((void *)(c + 4) > data_end) return XDP_ABORTED;
  const __u32 key = c[0], ops = c[1], val = c[2], pfx = c[3] & (NUM_PREFIXES - 1);
  const __u32 saddr = ip->saddr, daddr = ip->daddr;
  __s64 r;

  // Per-CPU hash keyed by the UDP source port.
  __u32 sport = bpf_ntohs(udp->source);
  __u64 len = data_end - data;
  __u64 *pb = bpf_map_lookup_elem(&pcpu_bytes, &sport);
  if (pb) {
    *pb += len;
    res[0] = *pb;
  } else {
    res[0] = bpf_map_update_elem(&pcpu_bytes, &sport, &len, BPF_NOEXIST);
  }

  // LRU hashes.
  __u32 lk = key & 7;
  __u64 lv = val + 1;
  res[1] = bpf_map_update_elem(&lru, &lk, &lv, BPF_ANY);
  __u64 *lp = bpf_map_lookup_elem(&lru, &lk);
  res[2] = lp ? (__s64)*lp : -1;
  lp = bpf_map_lookup_elem(&lru_pcpu, &lk);
  if (lp) {
    *lp += lv;
    res[3] = *lp;
  } else {
    res[3] = bpf_map_update_elem(&lru_pcpu, &lk, &lv, BPF_NOEXIST);
  }
  res[4] = bpf_map_update_elem(&lru, &lk, &lv, BPF_NOEXIST);
  if (ops & OP_LRU_DEL) {
    res[5] = bpf_map_delete_elem(&lru, &lk);
    res[6] = bpf_map_delete_elem(&lru_pcpu, &lk);
  } else {
    res[5] = res[6] = 1;
  }

  // LPM trie: the .rodata prefixes on the first run, then per packet.
  struct lpm_key k;
  if (!lpm_ready) {
    lpm_ready = 1;
    for (__u32 i = 0; i < NUM_PREFIXES; i++) {
      lpm_key_of(&k, i);
      __u32 v = prefixes[i].val;
      res[7] += bpf_map_update_elem(&lpm, &k, &v, BPF_NOEXIST) == 0;
    }
  }
  lpm_key_of(&k, pfx);
  __u32 pv = 10 * val;
  pv += prefixes[pfx & (NUM_PREFIXES - 1)].val;
  res[8] = bpf_map_update_elem(&lpm, &k, &pv, BPF_NOEXIST);
  res[9] = lpm_find(saddr);
  res[10] = lpm_find(daddr);
  if (ops & OP_LPM_DEL) res[11] = bpf_map_delete_elem(&lpm, &k);
  else res[11] = bpf_map_update_elem(&lpm, &k, &pv, BPF_EXIST);
  res[12] = lpm_find(saddr);

  // Queue and stack.
  __u32 qv = val | key << 8;
  __u32 out = 0;
  if (ops & OP_PUSH) {
    res[13] = bpf_map_push_elem(&queue, &qv, val & 1 ? BPF_EXIST : BPF_ANY);
    res[14] = bpf_map_push_elem(&stack, &qv, val & 1 ? BPF_EXIST : BPF_ANY);
    res[15] = bpf_map_push_elem(&queue, &qv, 7);
  }
  out = 0;
  r = bpf_map_peek_elem(&queue, &out);
  res[16] = r ? r : out;
  out = 0;
  r = bpf_map_peek_elem(&stack, &out);
  res[17] = r ? r : out;
  if (ops & OP_POP) {
    out = 0;
    r = bpf_map_pop_elem(&queue, &out);
    res[18] = r ? r : out;
    out = 0;
    r = bpf_map_pop_elem(&stack, &out);
    res[19] = r ? r : out;
  }

  // Bloom filter: add the key, test the value.
  __u32 bk = key;
  res[20] = bpf_map_push_elem(&bloom, &bk, BPF_ANY);
  res[21] = bpf_map_push_elem(&bloom, &bk, BPF_EXIST);
  __u32 bq = val;
  res[22] = bpf_map_peek_elem(&bloom, &bq);
  bq = key;
  res[23] = bpf_map_peek_elem(&bloom, &bq);

  // Ring buffer: output, reserve + submit, reserve + discard, queries.
  __u64 rec = ((__u64)key << 32) | ops << 16 | val;
  res[24] = bpf_ringbuf_output(&rb, &rec, sizeof(rec), 0);
  res[25] = bpf_ringbuf_output(&rb, &rec, sizeof(rec), 4);  // bad flags
  __u64 *s = bpf_ringbuf_reserve(&rb, 16, 0);
  if (s) {
    s[0] = rec + 1;
    s[1] = len;
    bpf_ringbuf_submit(s, BPF_RB_NO_WAKEUP);
    res[26] = 1;
  }
  s = bpf_ringbuf_reserve(&rb, 24, 0);
  if (s) {
    s[0] = s[1] = s[2] = rec + 2;
    bpf_ringbuf_discard(s, 0);
    res[27] = 1;
  }
  s = bpf_ringbuf_reserve(&rb, 16, 1);  // bad flags fail
  res[28] = s != 0;
  if (s) bpf_ringbuf_discard(s, 0);
  if (ops & OP_RB_BIG) {
    __u64 *big = bpf_ringbuf_reserve(&rb, 2048, 0);
    if (big) {
      for (int i = 0; i < 256; i++) big[i] = rec ^ i;
      big_buf[0] = rec;
      res[29] = bpf_ringbuf_output(&rb, big_buf, sizeof(big_buf), 0);  // no room left
      bpf_ringbuf_submit(big, 0);
    } else {
      res[29] = -1;
    }
    __u64 *big2 = bpf_ringbuf_reserve(&rb, 2048, 0);
    res[30] = big2 != 0;
    if (big2) bpf_ringbuf_discard(big2, 0);
  }
  res[31] = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
  res[32] = bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE);
  res[33] = bpf_ringbuf_query(&rb, BPF_RB_CONS_POS);
  res[34] = bpf_ringbuf_query(&rb, BPF_RB_PROD_POS);

  // Perf event array: no perf event is installed in any slot.
  res[35] = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &rec, sizeof(rec));
  res[36] = bpf_perf_event_output(ctx, &perf, 1, &rec, sizeof(rec));
  res[37] = bpf_perf_event_output(ctx, &perf, 9, &rec, sizeof(rec));
  res[38] = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU | (16ULL << 32), &rec, sizeof(rec));
  res[39] = bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU | (0xfffffULL << 32), &rec, sizeof(rec));
  res[40] = bpf_perf_event_output(ctx, &perf, 1ULL << 60, &rec, sizeof(rec));

  // Hash with update flags and delete results (8 entries, 16 keys: fills up).
  __u32 fk = key & 15;
  __u64 fv = val;
  res[41] = ops & OP_NOEXIST ? bpf_map_update_elem(&flagged, &fk, &fv, BPF_NOEXIST) : 1;
  fv += 100;
  res[42] = ops & OP_EXIST ? bpf_map_update_elem(&flagged, &fk, &fv, BPF_EXIST) : 1;
  res[43] = ops & OP_DELETE ? bpf_map_delete_elem(&flagged, &fk) : 1;
  res[44] = bpf_map_update_elem(&flagged, &fk, &fv, 9);  // bad flags

  // Maps of maps.
  res[45] = inner_op(&outer_arr, key & 3, val & 3, len);
  res[46] = inner_op(&outer_hash, key & 3, (val >> 2) & 7, 1);
  res[47] = len;

  if ((void *)c + sizeof(res) <= data_end) {
    __builtin_memcpy(c, res, sizeof(res));
    return XDP_TX;
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
