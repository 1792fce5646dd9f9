// Helper arguments are checked against each helper's prototype: memory and its
// size together (constant or bounded), map pointers, map keys and values of the
// map's sizes, and only the helpers the program type may call.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u64);
  __type(value, __u64);
} by_u64 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u32);
} narrow SEC(".maps");

SEC("kprobe/do_nanosleep")
int accept_probe_read_const_size(struct pt_regs *regs) {
  char buf[32];
  void *src = (void *)*(unsigned long *)regs;  // first saved register
  bpf_probe_read_kernel(buf, sizeof(buf), src);
  return buf[0];
}

// 64 bytes into a 32-byte buffer.
SEC("kprobe/do_nanosleep")
int reject_probe_read_size_too_big(struct pt_regs *regs) {
  char buf[32];
  char other[8];
  void *src = (void *)*(unsigned long *)regs;
  bpf_probe_read_kernel(other, sizeof(other), src);
  bpf_probe_read_kernel(buf, 64, src);
  return buf[0] + other[1];
}

// The size is an unbounded value from the context.
SEC("kprobe/do_nanosleep")
__naked int reject_probe_read_size_unbounded(void) {
  asm volatile("r3 = *(u64 *)(r1 + 0);"
               "r2 = *(u64 *)(r1 + 8);"
               "r1 = r10;"
               "r1 += -32;"
               "call %[bpf_probe_read_kernel];"
               "r0 = 0;"
               "exit;"
               :
               : __imm(bpf_probe_read_kernel)
               : __clobber_all);
}

SEC("kprobe/do_nanosleep")
__naked int accept_probe_read_size_bounded(void) {
  asm volatile("r3 = *(u64 *)(r1 + 0);"
               "r2 = *(u64 *)(r1 + 8);"
               "r2 &= 31;"
               "r1 = r10;"
               "r1 += -32;"
               "call %[bpf_probe_read_kernel];"
               "r0 = 0;"
               "exit;"
               :
               : __imm(bpf_probe_read_kernel)
               : __clobber_all);
}

SEC("kprobe/do_nanosleep")
int accept_get_current_comm(void *ctx) {
  char comm[16];
  bpf_get_current_comm(comm, sizeof(comm));
  return comm[0] == 's';
}

SEC("kprobe/do_nanosleep")
int reject_get_current_comm_too_big(void *ctx) {
  char comm[16];
  bpf_get_current_comm(comm, 600);
  return comm[0] == 's';
}

// The context is not memory a key can be read from.
SEC("xdp")
int reject_map_key_is_ctx(struct xdp_md *ctx) {
  __u64 *v = bpf_map_lookup_elem(&by_u64, ctx);
  return v ? XDP_DROP : XDP_PASS;
}

// A 4-byte map value used as the key of a map with 8-byte keys.
SEC("xdp")
int reject_map_key_too_small(struct xdp_md *ctx) {
  __u32 k = 0;
  __u32 *small = bpf_map_lookup_elem(&narrow, &k);
  if (!small) return XDP_PASS;
  __u64 *v = bpf_map_lookup_elem(&by_u64, small);
  return v ? XDP_DROP : XDP_PASS;
}

// A 4-byte map value used as the 8-byte value of an update.
SEC("xdp")
int reject_map_value_arg_too_small(struct xdp_md *ctx) {
  __u32 k = 1;
  __u32 *small = bpf_map_lookup_elem(&narrow, &k);
  if (!small) return XDP_PASS;
  __u64 key = 9;
  bpf_map_update_elem(&by_u64, &key, small, BPF_ANY);
  return XDP_PASS;
}

SEC("xdp")
__naked int reject_scalar_as_key_pointer(void) {
  asm volatile("r1 = %[by_u64] ll;"
               "r2 = 4096;"
               "call %[bpf_map_lookup_elem];"
               "r0 = 0;"
               "exit;"
               :
               : __imm_addr(by_u64), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// The first argument must be a map, here it is the context.
SEC("xdp")
__naked int reject_ctx_as_map(void) {
  asm volatile("r2 = 0;"
               "*(u64 *)(r10 - 8) = r2;"
               "r2 = r10;"
               "r2 += -8;"
               "call %[bpf_map_lookup_elem];"
               "r0 = 0;"
               "exit;"
               :
               : __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// Packet memory is a valid key once its bytes are proven present.
SEC("xdp")
int accept_map_key_from_packet(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + 8 > data_end) return XDP_PASS;
  __u64 *v = bpf_map_lookup_elem(&by_u64, data);
  return v ? XDP_DROP : XDP_PASS;
}

// The same with only 4 bytes proven.
SEC("xdp")
int reject_map_key_from_short_packet(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + 4 > data_end) return XDP_PASS;
  __u64 *v = bpf_map_lookup_elem(&by_u64, data);
  return v ? XDP_DROP : XDP_PASS;
}

// Privileged (CAP_PERFMON) loaders get the tracing base helpers in every type.
SEC("xdp")
int accept_get_current_comm_in_xdp(struct xdp_md *ctx) {
  char comm[16];
  bpf_get_current_comm(comm, sizeof(comm));
  return comm[0] == 's';
}

// Helpers the program type does not offer.
SEC("xdp")
__naked int reject_helper_not_for_xdp(void) {
  asm volatile("r2 = 0;"
               "r3 = r10;"
               "r3 += -8;"
               "r4 = 8;"
               "call %[bpf_skb_load_bytes];"
               "r0 = 0;"
               "exit;"
               :
               : __imm(bpf_skb_load_bytes)
               : __clobber_all);
}

SEC("socket")
int reject_helper_not_for_socket(struct __sk_buff *skb) {
  return bpf_skb_store_bytes(skb, 0, &skb->len, 0, 0) == 0;
}

SEC("tc")
int accept_tc_skb_store_bytes(struct __sk_buff *skb) {
  __u32 v = 0x01020304;
  return bpf_skb_store_bytes(skb, 0, &v, sizeof(v), 0) == 0;
}

// A size of zero is fine only for the helpers whose size may be zero.
SEC("tc")
int reject_skb_store_bytes_zero_len(struct __sk_buff *skb) {
  __u32 v = 0;
  return bpf_skb_store_bytes(skb, 0, &v, 0, 0) == 0;
}
