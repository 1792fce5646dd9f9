// Scalar bounds: what comparisons, masks and 32-bit ALU operations tell the
// verifier about a value, checked by using the value as an offset into a 64-byte
// map value.
#include "corpus.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[64]);
} buf SEC(".maps");

// The body of every naked program below: r6 = the map value (or exit), r7 = an
// unknown 64-bit scalar (read from the context).
#define PROLOGUE                            \
  "r7 = *(u32 *)(r1 + 16);"                 \
  "r8 = *(u32 *)(r1 + 12);"                 \
  "r8 <<= 32;"                              \
  "r7 |= r8;"                               \
  "r1 = 0;"                                 \
  "*(u32 *)(r10 - 4) = r1;"                 \
  "r2 = r10;"                               \
  "r2 += -4;"                               \
  "r1 = %[buf] ll;"                         \
  "call %[bpf_map_lookup_elem];"            \
  "if r0 == 0 goto 9f;"                     \
  "r6 = r0;"
#define EPILOGUE                            \
  "9: r0 = 2;"                              \
  "exit;"
#define OPERANDS : : __imm_addr(buf), __imm(bpf_map_lookup_elem) : __clobber_all

// A 32-bit move zero-extends: w2 = w7 is in [0, 2^32), and w2 &= 63 bounds it.
SEC("xdp")
__naked int accept_alu32_and_bounds(void) {
  asm volatile(PROLOGUE
               "w2 = w7;"
               "w2 &= 63;"
               "r6 += r2;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// A 32-bit comparison (jmp32) bounds only the low half: the 64-bit register
// may still be huge.
SEC("xdp")
__naked int reject_jmp32_bound_used_as_64bit(void) {
  asm volatile(PROLOGUE
               "if w7 > 63 goto 9f;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// ... but after a 32-bit move the upper half is zero, and jmp32 is enough.
SEC("xdp")
__naked int accept_jmp32_bound_after_zext(void) {
  asm volatile(PROLOGUE
               "w7 = w7;"
               "if w7 > 63 goto 9f;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Signed comparison bounds above only; negative values pass.
SEC("xdp")
__naked int reject_signed_upper_bound_only(void) {
  asm volatile(PROLOGUE
               "if r7 s> 63 goto 9f;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

SEC("xdp")
__naked int accept_signed_both_bounds(void) {
  asm volatile(PROLOGUE
               "if r7 s> 63 goto 9f;"
               "if r7 s< 0 goto 9f;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Unsigned upper bound alone is enough (unsigned values are never negative).
SEC("xdp")
__naked int accept_unsigned_upper_bound(void) {
  asm volatile(PROLOGUE
               "if r7 >= 64 goto 9f;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Bounds learnt on one register carry over to its copies (same scalar id).
SEC("xdp")
__naked int accept_bound_propagates_to_copy(void) {
  asm volatile(PROLOGUE
               "r2 = r7;"
               "if r7 >= 64 goto 9f;"
               "r6 += r2;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// ... but not to a copy taken and then changed.
SEC("xdp")
__naked int reject_bound_on_modified_copy(void) {
  asm volatile(PROLOGUE
               "r2 = r7;"
               "r2 += 1;"
               "r2 *= 3;"
               "if r7 >= 64 goto 9f;"
               "r6 += r2;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// A copy plus a constant keeps the link: r2 = r7 + 1 is bounded once r7 is.
SEC("xdp")
__naked int accept_bound_on_copy_plus_const(void) {
  asm volatile(PROLOGUE
               "r2 = r7;"
               "r2 += 1;"
               "if r7 >= 63 goto 9f;"
               "r6 += r2;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Right shift of a 32-bit value by 26 leaves 6 bits.
SEC("xdp")
__naked int accept_rsh_bounds(void) {
  asm volatile(PROLOGUE
               "w7 = w7;"
               "r7 >>= 26;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Arithmetic right shift keeps the sign: the value may be negative.
SEC("xdp")
__naked int reject_arsh_bounds(void) {
  asm volatile(PROLOGUE
               "r7 s>>= 58;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Modulo by a constant: the kernel (6.18) does not track the remainder's range,
// so r7 % 60 is an unknown scalar.
SEC("xdp")
__naked int reject_mod_const_not_tracked(void) {
  asm volatile(PROLOGUE
               "r7 %%= 60;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Sum of two bounded values may exceed the value size.
SEC("xdp")
__naked int reject_sum_of_bounded_exceeds(void) {
  asm volatile(PROLOGUE
               "r2 = r7;"
               "r2 &= 63;"
               "r3 = r7;"
               "r3 >>= 32;"
               "r3 &= 1;"
               "r2 += r3;"
               "r6 += r2;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Equality with a constant makes the register that constant.
SEC("xdp")
__naked int accept_jeq_makes_constant(void) {
  asm volatile(PROLOGUE
               "if r7 != 40 goto 9f;"
               "r6 += r7;"
               "r0 = *(u64 *)(r6 + 16);"
               "exit;"
               EPILOGUE OPERANDS);
}

// ... and 40 + 16 + 8 > 64.
SEC("xdp")
__naked int reject_jeq_constant_too_far(void) {
  asm volatile(PROLOGUE
               "if r7 != 48 goto 9f;"
               "r6 += r7;"
               "r0 = *(u64 *)(r6 + 16);"
               "exit;"
               EPILOGUE OPERANDS);
}

// A switch compiled to a jump chain bounds the index on every case.
SEC("xdp")
int accept_switch_statement(struct xdp_md *ctx) {
  __u32 key = 0;
  __u8 *v = bpf_map_lookup_elem(&buf, &key);
  if (!v) return XDP_PASS;
  __u32 i;
  switch (ctx->rx_queue_index) {
    case 0: i = 3; break;
    case 1: i = 17; break;
    case 7: i = 40; break;
    case 9: i = 63; break;
    default: return XDP_PASS;
  }
  return v[i];
}

// The default case passes the unbounded value through.
SEC("xdp")
int reject_switch_default_unbounded(struct xdp_md *ctx) {
  __u32 key = 0;
  __u8 *v = bpf_map_lookup_elem(&buf, &key);
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  switch (i) {
    case 0: i = 3; break;
    case 1: i = 17; break;
    default: break;
  }
  return ((volatile __u8 *)v)[i];
}

// Multiplying a bounded value keeps a bound (8 * 7 = 56 < 64).
SEC("xdp")
__naked int accept_mul_bounds(void) {
  asm volatile(PROLOGUE
               "r7 &= 7;"
               "r7 *= 8;"
               "r6 += r7;"
               "r0 = *(u64 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// 32-bit subtraction wraps: w7 in [0, 63] minus 1 may be 0xffffffff.
SEC("xdp")
__naked int reject_alu32_sub_wraps(void) {
  asm volatile(PROLOGUE
               "w7 &= 63;"
               "w7 -= 1;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}

// Bytes swapped: be16 of a value in [0, 63] moves its bits up (up to 0x3f00).
SEC("xdp")
__naked int reject_bswap_unbounded(void) {
  asm volatile(PROLOGUE
               "r7 &= 63;"
               "r7 = be16 r7;"
               "r6 += r7;"
               "r0 = *(u8 *)(r6 + 0);"
               "exit;"
               EPILOGUE OPERANDS);
}
