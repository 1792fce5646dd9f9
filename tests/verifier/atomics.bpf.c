// Atomic read-modify-write instructions: allowed on the stack and on map values
// (including global data), refused on the context and on packet memory.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64[2]);
} stats SEC(".maps");

__u64 total = 0;

SEC("xdp")
int accept_atomic_add_map_value(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&stats, &key);
  if (!v) return XDP_PASS;
  __sync_fetch_and_add(&v[0], 1);
  __sync_fetch_and_add(&v[1], ctx->data_end - ctx->data);
  return XDP_PASS;
}

SEC("xdp")
int accept_atomic_cmpxchg_xchg_global(struct xdp_md *ctx) {
  __u64 old = __sync_val_compare_and_swap(&total, 0, 1);
  old += __atomic_exchange_n(&total, 5, __ATOMIC_SEQ_CST);
  old += __sync_fetch_and_or(&total, 2);
  return old & 3;
}

SEC("xdp")
int accept_atomic_on_stack(struct xdp_md *ctx) {
  volatile __u64 local = ctx->rx_queue_index;
  __sync_fetch_and_add(&local, 3);
  return local & 3;
}

// 8 bytes at offset 12 of a 16-byte value: past the end.
SEC("xdp")
__naked int reject_atomic_map_value_oob(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[stats] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 0 goto 1f;"
               "r1 = 1;"
               "lock *(u64 *)(r0 + 16) += r1;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(stats), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

SEC("socket")
__naked int reject_atomic_on_ctx(void) {
  asm volatile("r2 = 1;"
               "lock *(u32 *)(r1 + 48) += r2;"  // cb[0]
               "r0 = 0;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_atomic_on_packet(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r3 = *(u32 *)(r1 + 4);"
               "r4 = r2;"
               "r4 += 8;"
               "if r4 > r3 goto 1f;"
               "r5 = 1;"
               "lock *(u64 *)(r2 + 0) += r5;"
               "1: r0 = 2;"
               "exit;" ::: __clobber_all);
}

// An atomic on a stack slot that holds a spilled pointer: a privileged loader
// may do it, and the slot then holds a scalar...
SEC("xdp")
__naked int accept_atomic_on_spilled_pointer(void) {
  asm volatile("*(u64 *)(r10 - 8) = r1;"
               "r2 = 1;"
               "lock *(u64 *)(r10 - 8) += r2;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

// ... which can no longer be dereferenced.
SEC("xdp")
__naked int reject_deref_after_atomic_on_spilled_pointer(void) {
  asm volatile("*(u64 *)(r10 - 8) = r1;"
               "r2 = 0;"
               "lock *(u64 *)(r10 - 8) += r2;"
               "r1 = *(u64 *)(r10 - 8);"
               "r0 = *(u32 *)(r1 + 16);"
               "exit;" ::: __clobber_all);
}

// Misaligned atomic on a map value.
SEC("xdp")
__naked int reject_atomic_misaligned(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[stats] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 0 goto 1f;"
               "r1 = 1;"
               "lock *(u64 *)(r0 + 4) += r1;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(stats), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}
