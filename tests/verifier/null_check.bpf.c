// bpf_map_lookup_elem returns map_value_or_null: nothing may go through it until a
// comparison with 0 has split the paths.  The comparison also marks every copy of
// the same pointer (same id), so checking a copy is as good as checking the original.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} table SEC(".maps");

SEC("xdp")
int accept_lookup_null_checked(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index;
  __u64 *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  return *v & 1;
}

SEC("xdp")
int reject_lookup_no_null_check(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index;
  __u64 *v = bpf_map_lookup_elem(&table, &key);
  return *v & 1;
}

// The dereference is on the NULL side of the check.
SEC("xdp")
__naked int reject_lookup_deref_on_null_branch(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 != 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "1: r0 = 0;"
               "exit;"
               :
               : __imm_addr(table), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// r6 = r0; the check is on r6, the load goes through r0.
SEC("xdp")
__naked int accept_null_check_on_copy(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "r6 = r0;"
               "if r6 == 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 0;"
               "exit;"
               :
               : __imm_addr(table), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// A copy spilled to the stack and filled back keeps its id: the check on the
// filled register covers the original too.
SEC("xdp")
__naked int accept_null_check_after_spill_fill(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "*(u64 *)(r10 - 16) = r0;"
               "r7 = *(u64 *)(r10 - 16);"
               "if r7 == 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 0;"
               "exit;"
               :
               : __imm_addr(table), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// Two lookups: checking the first result says nothing about the second.
SEC("xdp")
__naked int reject_null_check_on_other_lookup(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "r6 = r0;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r6 == 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 0;"
               "exit;"
               :
               : __imm_addr(table), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// Comparing against a non-zero constant does not rule out NULL.
SEC("xdp")
__naked int reject_null_check_against_one(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[table] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 1 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 0;"
               "exit;"
               :
               : __imm_addr(table), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// The value pointer survives being passed to another helper after the check.
SEC("xdp")
int accept_lookup_then_update_value(struct xdp_md *ctx) {
  __u32 key = 3;
  __u64 *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  key = 4;
  bpf_map_update_elem(&table, &key, v, BPF_ANY);
  return XDP_PASS;
}

// Passing the unchecked pointer to a helper that wants memory is rejected too.
SEC("xdp")
int reject_unchecked_value_to_helper(struct xdp_md *ctx) {
  __u32 key = 3;
  __u64 *v = bpf_map_lookup_elem(&table, &key);
  key = 4;
  bpf_map_update_elem(&table, &key, v, BPF_ANY);
  return XDP_PASS;
}
