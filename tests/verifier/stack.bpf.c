// The stack: 512 bytes below r10 per frame, at most 512 bytes summed over a call
// chain.  Fixed and variable offsets must stay inside; the privileged loader may
// read stack bytes that were never written.
#include "corpus.h"

SEC("socket")
int accept_stack_array_masked_index(struct __sk_buff *skb) {
  volatile __u8 buf[64];
  for (int i = 0; i < 64; i++) buf[i] = i;
  return buf[skb->len & 63];
}

SEC("socket")
int reject_stack_array_unchecked_index(struct __sk_buff *skb) {
  volatile __u8 buf[64];
  for (int i = 0; i < 64; i++) buf[i] = i;
  return buf[skb->len];
}

SEC("socket")
int accept_stack_array_checked_index(struct __sk_buff *skb) {
  volatile __u64 buf[8];
  for (int i = 0; i < 8; i++) buf[i] = i;
  __u32 i = skb->len;
  if (i >= 8) return 0;
  return buf[i];
}

// Variable-offset write with an index that may reach one past the array; the
// array is at the top of the frame, so the write may land above r10.
SEC("socket")
__naked int reject_stack_var_write_past_top(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"  // skb->len
               "r2 &= 15;"
               "r3 = r10;"
               "r3 += -8;"
               "r3 += r2;"
               "r0 = 0;"
               "*(u8 *)(r3 + 0) = r0;"
               "exit;" ::: __clobber_all);
}

SEC("socket")
__naked int accept_stack_var_write_in_bounds(void) {
  asm volatile("r2 = *(u32 *)(r1 + 0);"
               "r2 &= 15;"
               "r3 = r10;"
               "r3 += -16;"
               "r3 += r2;"
               "r0 = 0;"
               "*(u8 *)(r3 + 0) = r0;"
               "exit;" ::: __clobber_all);
}

// Privileged loaders may read uninitialised stack (it holds zeros or junk, never a kernel pointer).
SEC("socket")
__naked int accept_stack_uninit_read(void) {
  asm volatile("r0 = *(u64 *)(r10 - 64);"
               "r0 &= 1;"
               "exit;" ::: __clobber_all);
}

SEC("socket")
__naked int reject_stack_beyond_512(void) {
  asm volatile("r0 = 0;"
               "*(u64 *)(r10 - 520) = r0;"
               "exit;" ::: __clobber_all);
}

// A large buffer in each of two frames: each is fine, the sum is not.
static __noinline int fill_deep(__u32 seed) {
  volatile __u8 buf[320];
  for (int i = 0; i < 320; i += 32) buf[i] = seed + i;
  return buf[seed & 255];
}

SEC("socket")
int reject_stack_combined_over_calls(struct __sk_buff *skb) {
  volatile __u8 buf[256];
  for (int i = 0; i < 256; i += 32) buf[i] = i;
  return fill_deep(skb->len) + buf[skb->len & 255];
}

static __noinline int fill_small(__u32 seed) {
  volatile __u8 buf[128];
  for (int i = 0; i < 128; i += 32) buf[i] = seed + i;
  return buf[seed & 127];
}

SEC("socket")
int accept_stack_combined_under_limit(struct __sk_buff *skb) {
  volatile __u8 buf[256];
  for (int i = 0; i < 256; i += 32) buf[i] = i;
  return fill_small(skb->len) + buf[skb->len & 255];
}

// The callee writes through a pointer into its caller's frame.
static __noinline void put(__u64 *out, __u64 v) { *out = v; }

SEC("socket")
int accept_stack_ptr_passed_to_callee(struct __sk_buff *skb) {
  __u64 v;
  put(&v, skb->len);
  return v & 0xffff;
}

// Spilled pointers come back as pointers (ctx here) and may be dereferenced.
SEC("socket")
__naked int accept_stack_spill_fill_ctx(void) {
  asm volatile("*(u64 *)(r10 - 8) = r1;"
               "r1 = 0;"
               "r6 = *(u64 *)(r10 - 8);"
               "r0 = *(u32 *)(r6 + 0);"
               "exit;" ::: __clobber_all);
}

// A pointer spilled at fp-8, one byte of it overwritten: the fill is a scalar.
SEC("socket")
__naked int reject_stack_spill_clobbered_then_deref(void) {
  asm volatile("*(u64 *)(r10 - 8) = r1;"
               "r2 = 0;"
               "*(u8 *)(r10 - 6) = r2;"
               "r6 = *(u64 *)(r10 - 8);"
               "r0 = *(u32 *)(r6 + 0);"
               "exit;" ::: __clobber_all);
}
