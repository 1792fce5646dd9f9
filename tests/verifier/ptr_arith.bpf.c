// Pointer arithmetic: only 64-bit add/sub of a scalar (and, for a privileged
// loader, ptr - ptr giving a scalar) keep a pointer a pointer.  Bitwise ops,
// multiplication, 32-bit ALU, ptr + ptr, and any arithmetic on pkt_end or on a
// not-yet-checked map_value_or_null are refused.  Written in assembly because the
// compiler never emits most of these.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64[4]);
} arr SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64[4]);
} hash SEC(".maps");

SEC("xdp")
__naked int reject_ptr_and(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"  // data
               "r3 = *(u32 *)(r1 + 4);"  // data_end
               "r2 &= -8;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_ptr_or(void) {
  asm volatile("r2 = r10;"
               "r2 |= 1;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_ptr_mul(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r2 *= 2;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_ptr_shift(void) {
  asm volatile("r2 = r1;"
               "r2 <<= 1;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_ptr_alu32_add(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "w2 += 4;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_ptr_plus_ptr(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r3 = *(u32 *)(r1 + 4);"
               "r2 += r3;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

// ptr - ptr of the same packet gives the packet length as a scalar.
SEC("xdp")
__naked int accept_pkt_minus_pkt(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r3 = *(u32 *)(r1 + 4);"
               "r3 -= r2;"
               "r0 = r3;"
               "r0 &= 3;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_pkt_end_arith(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r3 = *(u32 *)(r1 + 4);"
               "r3 += -8;"
               "if r2 > r3 goto 1f;"
               "r0 = *(u8 *)(r2 + 0);"
               "exit;"
               "1: r0 = 2;"
               "exit;" ::: __clobber_all);
}

SEC("xdp")
__naked int reject_map_or_null_arith(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[hash] ll;"
               "call %[bpf_map_lookup_elem];"
               "r0 += 8;"
               "if r0 == 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(hash), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// An array lookup with a constant in-range key cannot fail: the kernel types the
// result as map_value (not _or_null), so arithmetic before the check is fine.
SEC("xdp")
__naked int accept_array_const_key_lookup_never_null(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[arr] ll;"
               "call %[bpf_map_lookup_elem];"
               "r0 += 8;"
               "if r0 == 0 goto 1f;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(arr), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

SEC("xdp")
__naked int accept_map_value_ptr_add_const(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[arr] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 0 goto 1f;"
               "r0 += 24;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(arr), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// A map value pointer moved back, then forward: only the sum counts.
SEC("xdp")
__naked int accept_map_value_ptr_back_and_forth(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[arr] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 0 goto 1f;"
               "r0 += -16;"
               "r0 += 40;"
               "r0 = *(u64 *)(r0 + 0);"
               "exit;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(arr), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// The same, ending at a negative offset.
SEC("xdp")
__naked int reject_map_value_ptr_negative_deref(void) {
  asm volatile("r1 = 0;"
               "*(u32 *)(r10 - 4) = r1;"
               "r2 = r10;"
               "r2 += -4;"
               "r1 = %[arr] ll;"
               "call %[bpf_map_lookup_elem];"
               "if r0 == 0 goto 1f;"
               "r0 += -16;"
               "r0 = *(u64 *)(r0 + 8);"
               "exit;"
               "1: r0 = 2;"
               "exit;"
               :
               : __imm_addr(arr), __imm(bpf_map_lookup_elem)
               : __clobber_all);
}

// Negating a pointer is allowed for a privileged loader: the result is an unknown scalar.
SEC("xdp")
__naked int accept_ptr_neg_becomes_scalar(void) {
  asm volatile("r2 = r1;"
               "r2 = -r2;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

// ... and it may not be dereferenced afterwards.
SEC("xdp")
__naked int reject_deref_negated_ptr(void) {
  asm volatile("r2 = r10;"
               "r2 = -r2;"
               "r2 = -r2;"
               "r0 = *(u64 *)(r2 - 8);"
               "exit;" ::: __clobber_all);
}

// Adding an unknown scalar to the stack pointer and writing there.
SEC("xdp")
__naked int reject_stack_ptr_plus_unknown(void) {
  asm volatile("r2 = *(u32 *)(r1 + 16);"  // rx_queue_index
               "r3 = r10;"
               "r3 += -64;"
               "r3 += r2;"
               "r0 = 0;"
               "*(u8 *)(r3 + 0) = r0;"
               "r0 = 2;"
               "exit;" ::: __clobber_all);
}

// Returning a pointer is not a leak for a privileged loader.
SEC("socket")
__naked int accept_return_ctx_pointer(void) {
  asm volatile("r0 = r1;"
               "exit;" ::: __clobber_all);
}
